// The parsers the provider verifiers share: anything malformed is null, never an exception.
import assert from "node:assert/strict";
import { test } from "node:test";
import { hexBytes } from "./bytes.ts";
import { jsonObject } from "./json.ts";
import {
  afterPrefix,
  deliveryId,
  invalidHandshake,
  parseRfc3339,
  parseUnixSeconds,
  signedBytes,
  withinWindow,
} from "./webhook_auth.ts";

test("afterPrefix needs the exact prefix", () => {
  assert.equal(afterPrefix("sha256=abc", "sha256="), "abc");
  assert.equal(afterPrefix("sha256=", "sha256="), "");
  assert.equal(afterPrefix("SHA256=abc", "sha256="), null);
  assert.equal(afterPrefix(" sha256=abc", "sha256="), null);
  assert.equal(afterPrefix(undefined, "sha256="), null);
});

test("hexBytes takes exactly the length asked for, in either case", () => {
  assert.deepEqual(hexBytes("00ff7A", 3), new Uint8Array([0, 255, 122]));
  for (const bad of ["00ff7", "00ff7a00", "00fg7a", "0x00ff", "+0ff7a", " 0ff7a", "", null, undefined]) {
    assert.equal(hexBytes(bad, 3), null, String(bad));
  }
});

test("signedBytes joins text as UTF-8 and bytes as they are", () => {
  assert.deepEqual(
    signedBytes("v0:", "1", ":", new Uint8Array([0xff, 0x00])),
    new Uint8Array([118, 48, 58, 49, 58, 255, 0]),
  );
  assert.deepEqual(signedBytes("é"), new Uint8Array([0xc3, 0xa9]));
  assert.deepEqual(signedBytes(), new Uint8Array());
});

test("parseRfc3339 reads Twitch's nanosecond timestamps and refuses loose formats", () => {
  assert.equal(parseRfc3339("2019-11-16T10:11:12.634234626Z"), Date.UTC(2019, 10, 16, 10, 11, 12, 634));
  assert.equal(parseRfc3339("2019-11-16T10:11:12Z"), Date.UTC(2019, 10, 16, 10, 11, 12));
  assert.equal(parseRfc3339("2019-11-16T12:11:12.5+02:00"), Date.UTC(2019, 10, 16, 10, 11, 12, 500));
  for (const bad of ["2019-11-16 10:11:12Z", "2019-11-16", "1573899072", "2019-11-16T10:11:12", "yesterday", ""]) {
    assert.equal(parseRfc3339(bad), null, bad);
  }
  assert.equal(parseRfc3339(undefined), null);
});

test("parseUnixSeconds takes whole decimal seconds only", () => {
  assert.equal(parseUnixSeconds("1531420618"), 1531420618000);
  for (const bad of ["1531420618.5", "-1", "+1531420618", " 1531420618", "0x10", "", "1e9", "9999999999999"]) {
    assert.equal(parseUnixSeconds(bad), null, bad);
  }
  assert.equal(parseUnixSeconds(undefined), null);
});

test("withinWindow accepts the window's edges on both sides and nothing beyond", () => {
  const receivedAt = new Date(1_000_000);
  assert.equal(withinWindow(1_000_000, receivedAt, 300), true);
  assert.equal(withinWindow(1_000_000 - 300, receivedAt, 300), true);
  assert.equal(withinWindow(1_000_000 + 300, receivedAt, 300), true);
  assert.equal(withinWindow(1_000_000 - 301, receivedAt, 300), false);
  assert.equal(withinWindow(1_000_000 + 301, receivedAt, 300), false);
  assert.equal(withinWindow(null, receivedAt, 300), false);
});

test("deliveryId trims and caps strings and numbers, else null", () => {
  assert.equal(deliveryId("  Ev123 "), "Ev123");
  assert.equal(deliveryId(42), "42");
  assert.equal(deliveryId("x".repeat(300)), "x".repeat(200));
  for (const bad of ["", "   ", null, undefined, {}, ["a"], true]) assert.equal(deliveryId(bad), null);
});

test("jsonObject takes objects only", () => {
  assert.deepEqual(jsonObject({ a: 1 }), { a: 1 });
  for (const bad of [null, [], "text", 1, undefined]) assert.equal(jsonObject(bad), null);
});

test("invalidHandshake answers 400 in the functions' error envelope", () => {
  const reply = invalidHandshake("no challenge");
  assert.equal(reply.status, 400);
  assert.equal(reply.contentType, "application/json");
  assert.deepEqual(JSON.parse(reply.body), { error: { code: "invalid_body", message: "no challenge", details: null } });
});
