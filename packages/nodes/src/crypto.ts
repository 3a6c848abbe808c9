// AES-256-GCM for credentials and webhook secrets, on Web Crypto (Node 24 and Deno alike).
// AREA_ENCRYPTION_KEY holds "<key id>:<base64 of 32 bytes>", comma-separated for rotation:
// the first key encrypts, every listed key decrypts. The database only stores the key id.

/** Web Crypto's key type, named through the API so it type-checks under Node's and Deno's typings alike. */
type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export interface Keyring {
  currentKeyId: string;
  keys: Map<string, AesKey>;
}

export async function loadKeyring(spec: string | undefined): Promise<Keyring> {
  if (!spec?.trim()) {
    throw new Error("AREA_ENCRYPTION_KEY is required: <key id>:<base64 of 32 random bytes>[,<older id>:<key>…]");
  }
  const keys = new Map<string, AesKey>();
  for (const entry of spec.split(",").map((part) => part.trim())) {
    const separator = entry.indexOf(":");
    const id = entry.slice(0, separator);
    const raw = Uint8Array.from(atob(entry.slice(separator + 1)), (c) => c.charCodeAt(0));
    if (separator < 1 || raw.length !== 32) {
      throw new Error(`AREA_ENCRYPTION_KEY entry "${id || entry.slice(0, 8)}…" must be <key id>:<base64 of 32 bytes>`);
    }
    keys.set(id, await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
  }
  return { currentKeyId: spec.split(",")[0].trim().split(":")[0], keys };
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
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
  const bytes = Uint8Array.from(atob(ciphertext), (c) => c.charCodeAt(0));
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
