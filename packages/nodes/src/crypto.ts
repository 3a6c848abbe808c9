// AES-256-GCM for credentials and webhook secrets, on Web Crypto (Node 24 and Deno alike).
// AREA_ENCRYPTION_KEY holds "<key id>:<base64 of 32 bytes>", comma-separated for rotation:
// the first key encrypts, every listed key decrypts. The database only stores the key id.
import { fromBase64, toBase64 } from "./bytes.ts";

/** Web Crypto's key type, named through the API so it type-checks under Node's and Deno's typings alike. */
type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export interface Keyring {
  currentKeyId: string;
  keys: Map<string, AesKey>;
}

/** The keys of AREA_ENCRYPTION_KEY, in order (the first is the current one), as raw bytes. */
function parseKeySpec(spec: string | undefined): { id: string; raw: Uint8Array<ArrayBuffer> }[] {
  if (!spec?.trim()) {
    throw new Error("AREA_ENCRYPTION_KEY is required: <key id>:<base64 of 32 random bytes>[,<older id>:<key>…]");
  }
  return spec.split(",").map((part) => part.trim()).map((entry) => {
    const separator = entry.indexOf(":");
    const id = entry.slice(0, separator);
    const raw = fromBase64(entry.slice(separator + 1));
    if (separator < 1 || raw.length !== 32) {
      throw new Error(`AREA_ENCRYPTION_KEY entry "${id || entry.slice(0, 8)}…" must be <key id>:<base64 of 32 bytes>`);
    }
    return { id, raw };
  });
}

export async function loadKeyring(spec: string | undefined): Promise<Keyring> {
  const keys = new Map<string, AesKey>();
  const entries = parseKeySpec(spec);
  for (const { id, raw } of entries) {
    keys.set(id, await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
  }
  return { currentKeyId: entries[0].id, keys };
}

/** 32-byte keys derived for one purpose from each AREA_ENCRYPTION_KEY entry, by the same key ids. */
export interface DerivedKeys {
  currentKeyId: string;
  keys: Map<string, Uint8Array<ArrayBuffer>>;
}

/**
 * Derives a key per AREA_ENCRYPTION_KEY entry with HKDF-SHA-256 (RFC 5869: a zero salt, `purpose`
 * as the info), so another use of the key (signing OAuth2 states, …) never shares key material with
 * the credentials' AES-GCM. Rotation works as for the keyring: the first entry's key is current.
 */
export async function deriveKeys(spec: string | undefined, purpose: string): Promise<DerivedKeys> {
  const keys = new Map<string, Uint8Array<ArrayBuffer>>();
  const entries = parseKeySpec(spec);
  const info = new TextEncoder().encode(purpose);
  for (const { id, raw } of entries) {
    const master = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info },
      master,
      256,
    );
    keys.set(id, new Uint8Array(bits));
  }
  return { currentKeyId: entries[0].id, keys };
}

/** Encrypts with the current key: base64(iv || ciphertext || tag). */
export async function seal(keyring: Keyring, plaintext: string): Promise<{ keyId: string; ciphertext: string }> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = keyring.keys.get(keyring.currentKeyId)!;
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new TextEncoder().encode(plaintext)),
  );
  const out = new Uint8Array(iv.length + sealed.length);
  out.set(iv);
  out.set(sealed, iv.length);
  return { keyId: keyring.currentKeyId, ciphertext: toBase64(out) };
}

/** Decrypts what seal() produced under any key of the ring; fails on tampering or an unknown key. */
export async function unseal(keyring: Keyring, keyId: string, ciphertext: string): Promise<string> {
  const key = keyring.keys.get(keyId);
  if (!key) throw new Error(`no encryption key "${keyId}" in AREA_ENCRYPTION_KEY (rotated out too early?)`);
  const bytes = fromBase64(ciphertext);
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12) }, key, bytes.slice(12));
  return new TextDecoder().decode(plain);
}

/**
 * A stored webhook secret in clear. create_area() issues secrets in SQL, where the key never is,
 * so a secret is stored as issued (key id null) until the worker seals it moments later.
 */
export function openStoredSecret(keyring: Keyring, keyId: string | null, stored: string): Promise<string> {
  return keyId === null ? Promise.resolve(stored) : unseal(keyring, keyId, stored);
}
