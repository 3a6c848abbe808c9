import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { deriveKeys, loadKeyring, seal, unseal } from "./crypto.ts";

const key = () => randomBytes(32).toString("base64");

test("seal and unseal round-trip; each seal uses a fresh IV", async () => {
  const ring = await loadKeyring(`k1:${key()}`);
  const a = await seal(ring, "whsec_abc");
  const b = await seal(ring, "whsec_abc");
  assert.equal(a.keyId, "k1");
  assert.notEqual(a.ciphertext, b.ciphertext);
  assert.equal(await unseal(ring, a.keyId, a.ciphertext), "whsec_abc");
});

test("rotation: the first key encrypts, older keys still decrypt", async () => {
  const old = `k1:${key()}`;
  const sealedWithOld = await seal(await loadKeyring(old), "token");
  const rotated = await loadKeyring(`k2:${key()},${old}`);
  assert.equal((await seal(rotated, "x")).keyId, "k2");
  assert.equal(await unseal(rotated, "k1", sealedWithOld.ciphertext), "token");
});

test("tampering, unknown keys and malformed settings are refused with clear errors", async () => {
  const ring = await loadKeyring(`k1:${key()}`);
  const sealed = await seal(ring, "secret");
  const bytes = Buffer.from(sealed.ciphertext, "base64");
  bytes[bytes.length - 1] ^= 1;
  await assert.rejects(unseal(ring, "k1", bytes.toString("base64")));
  await assert.rejects(unseal(ring, "k9", sealed.ciphertext), /no encryption key "k9"/);
  await assert.rejects(loadKeyring(undefined), /AREA_ENCRYPTION_KEY is required/);
  await assert.rejects(loadKeyring("k1:c2hvcnQ="), /must be <key id>:<base64 of 32 bytes>/);
});

test("derived keys: 32 bytes per key id, one per purpose, stable, never the key itself", async () => {
  const [k1, k2] = [key(), key()];
  const spec = `k2:${k2},k1:${k1}`;
  const state = await deriveKeys(spec, "area/oauth2-state/v1");
  assert.equal(state.currentKeyId, "k2");
  assert.deepEqual([...state.keys.keys()], ["k2", "k1"]);
  assert.equal(state.keys.get("k2")!.length, 32);
  assert.deepEqual((await deriveKeys(spec, "area/oauth2-state/v1")).keys.get("k1"), state.keys.get("k1"));
  assert.notDeepEqual((await deriveKeys(spec, "other")).keys.get("k2"), state.keys.get("k2"));
  assert.notDeepEqual(Buffer.from(state.keys.get("k2")!), Buffer.from(k2, "base64"));
  await assert.rejects(deriveKeys("", "x"), /AREA_ENCRYPTION_KEY is required/);
});
