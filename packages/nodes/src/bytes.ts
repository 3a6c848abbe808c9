// Bytes written as text and back: hex (signatures, digests) and base64 (keys, ciphertexts, PKCE),
// with Web APIs only (Node 24 and Deno alike).

const encoder = new TextEncoder();

/** Lower-case hex, two digits a byte. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Exactly `length` bytes written as hex (either case), else null. */
export function hexBytes(hex: string | null | undefined, length: number): Uint8Array<ArrayBuffer> | null {
  if (typeof hex !== "string" || hex.length !== length * 2 || !/^[0-9a-f]*$/i.test(hex)) return null;
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** The SHA-256 digest of `text` in UTF-8. */
export async function sha256(text: string): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** The SHA-256 digest of `text` in UTF-8, as lower-case hex. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(await sha256(text));
}

/** Standard base64 (RFC 4648 §4), padded. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** base64url (RFC 4648 §5) without padding. */
export function base64url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes of standard base64; atob's DOMException on anything else. */
export function fromBase64(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}
