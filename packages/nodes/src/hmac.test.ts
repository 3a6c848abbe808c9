// HMAC-SHA256 helpers, checked against RFC 4231's test vector.
import assert from "node:assert/strict";
import { test } from "node:test";
import { signHmacSha256, verifyHmacSha256 } from "./hmac.ts";

const RFC_4231_CASE_2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

test("signing matches RFC 4231 for strings and bytes", async () => {
  const data = "what do ya want for nothing?";
  assert.equal(await signHmacSha256("Jefe", data), RFC_4231_CASE_2);
  assert.equal(await signHmacSha256("Jefe", new TextEncoder().encode(data)), RFC_4231_CASE_2);
});

test("verification accepts the signature and refuses anything else", async () => {
  const data = "what do ya want for nothing?";
  assert.equal(await verifyHmacSha256("Jefe", data, RFC_4231_CASE_2), true);
  assert.equal(await verifyHmacSha256("Jefe", data + " ", RFC_4231_CASE_2), false);
  assert.equal(await verifyHmacSha256("jefe", data, RFC_4231_CASE_2), false);
  assert.equal(await verifyHmacSha256("Jefe", data, RFC_4231_CASE_2.slice(0, 62)), false);
  assert.equal(await verifyHmacSha256("Jefe", data, ""), false);
});
