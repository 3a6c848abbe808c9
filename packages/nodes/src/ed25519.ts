// Ed25519 signature verification on Web Crypto (Node 24 and Deno 2 both implement it), for
// providers that sign with a key pair instead of a shared secret (Discord interactions).
import { hexBytes } from "./bytes.ts";

/** Web Crypto's key type, named through the API so it type-checks under Node's and Deno's typings alike. */
type PublicKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

/** Imported keys by their hex: an application has one public key, so this stays tiny. */
const keys = new Map<string, Promise<PublicKey | null>>();
const MAX_CACHED_KEYS = 16;

function publicKey(publicKeyHex: string): Promise<PublicKey | null> {
  const normalized = publicKeyHex.toLowerCase();
  let key = keys.get(normalized);
  if (!key) {
    const raw = hexBytes(normalized, PUBLIC_KEY_BYTES);
    // A key that is not 32 bytes, or not a point on the curve, verifies nothing.
    key = raw
      ? crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]).catch(() => null)
      : Promise.resolve(null);
    if (keys.size >= MAX_CACHED_KEYS) keys.delete(keys.keys().next().value!);
    keys.set(normalized, key);
  }
  return key;
}

/**
 * True when `signatureHex` (64 bytes, either case) is the Ed25519 signature of `data` under the
 * 32-byte public key `publicKeyHex`. Anything malformed is false, never an exception.
 */
export async function verifyEd25519(
  publicKeyHex: string,
  data: Uint8Array<ArrayBuffer>,
  signatureHex: string,
): Promise<boolean> {
  const signature = hexBytes(signatureHex, SIGNATURE_BYTES);
  if (!signature) return false;
  const key = await publicKey(publicKeyHex);
  if (!key) return false;
  try {
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, data);
  } catch {
    return false;
  }
}
