// HMAC-SHA256 signatures on Web Crypto (Node 24 and Deno alike), shared by the webhook verifiers:
// the generic webhook signs the raw body, providers (GitHub, Slack, Twitch) sign their own strings.
import { hexBytes, toHex } from "./bytes.ts";

/** Web Crypto's key type, named through the API so it type-checks under Node's and Deno's typings alike. */
type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const SHA256_BYTES = 32;
const encoder = new TextEncoder();

/** Imported keys by secret: a busy endpoint verifies every delivery with the same few secrets. */
const keys = new Map<string, Promise<HmacKey>>();
const MAX_CACHED_KEYS = 1_000;

function hmacKey(secret: string): Promise<HmacKey> {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_CACHED_KEYS) keys.delete(keys.keys().next().value!);
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

function bytes(data: Uint8Array | string): Uint8Array<ArrayBuffer> {
  // A copy, because Web Crypto's typings refuse views that may sit on a SharedArrayBuffer.
  return typeof data === "string" ? encoder.encode(data) : new Uint8Array(data);
}

/** The lower-case hex HMAC-SHA256 of `data` under `secret`. */
export async function signHmacSha256(secret: string, data: Uint8Array | string): Promise<string> {
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), bytes(data)));
  return toHex(signature);
}

/**
 * True when `signatureHex` (either case) is the HMAC-SHA256 of `data` under `secret`. Web Crypto's
 * verify compares in constant time, so the response time tells a forger nothing about the signature
 * (Node: CRYPTO_memcmp in src/crypto/crypto_hmac.cc; Deno: ring::hmac::verify in ext/crypto).
 */
export async function verifyHmacSha256(
  secret: string,
  data: Uint8Array | string,
  signatureHex: string,
): Promise<boolean> {
  const signature = hexBytes(signatureHex, SHA256_BYTES);
  if (!signature) return false;
  return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, bytes(data));
}
