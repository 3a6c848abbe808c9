// Ed25519 verification on Web Crypto, checked against RFC 8032's test vectors (section 7.1,
// https://www.rfc-editor.org/rfc/rfc8032#section-7.1) and against key pairs made here.
import assert from "node:assert/strict";
import { test } from "node:test";
import { verifyEd25519 } from "./ed25519.ts";

/** Web Crypto's types, named through the API so they check under Node's and Deno's typings alike. */
type Key = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
type KeyPair = { publicKey: Key; privateKey: Key };

const hex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
const toHex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

/** RFC 8032, 7.1, TEST 1 to TEST 3: public key, message, signature. */
const RFC_8032 = [
  {
    name: "TEST 1",
    publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155" +
      "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    name: "TEST 2",
    publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    name: "TEST 3",
    publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac" +
      "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
];

test("RFC 8032 test vectors verify, with the signature in either case", async () => {
  for (const vector of RFC_8032) {
    assert.equal(await verifyEd25519(vector.publicKey, hex(vector.message), vector.signature), true, vector.name);
    const upper = vector.signature.toUpperCase();
    assert.equal(await verifyEd25519(vector.publicKey.toUpperCase(), hex(vector.message), upper), true, vector.name);
  }
});

test("another message, key or signature does not verify", async () => {
  const [one, two] = RFC_8032;
  assert.equal(await verifyEd25519(one.publicKey, hex("00"), one.signature), false);
  assert.equal(await verifyEd25519(two.publicKey, hex(one.message), one.signature), false);
  assert.equal(await verifyEd25519(one.publicKey, hex(one.message), two.signature), false);
  const flipped = hex(one.signature);
  flipped[10] ^= 1;
  assert.equal(await verifyEd25519(one.publicKey, hex(one.message), toHex(flipped)), false);
});

test("malformed keys and signatures are false, never an exception", async () => {
  const [one] = RFC_8032;
  const message = hex(one.message);
  for (const signature of ["", one.signature.slice(2), `${one.signature}00`, `zz${one.signature.slice(2)}`, "0"]) {
    assert.equal(await verifyEd25519(one.publicKey, message, signature), false, signature);
  }
  for (const key of ["", one.publicKey.slice(2), `${one.publicKey}00`, `zz${one.publicKey.slice(2)}`, "f".repeat(64)]) {
    assert.equal(await verifyEd25519(key, message, one.signature), false, key);
  }
  assert.equal(await verifyEd25519("0".repeat(64), message, "0".repeat(128)), false);
});

test("a key pair made here signs what verifies", async () => {
  const pair = await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]) as KeyPair;
  const publicKey = toHex(new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)));
  const data = new TextEncoder().encode("1700000000{}");
  const signature = toHex(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, data)));
  assert.equal(await verifyEd25519(publicKey, data, signature), true);
  assert.equal(await verifyEd25519(RFC_8032[0].publicKey, data, signature), false);
});
