// Discord interaction verification as "Receiving and responding" describes it
// (https://discord.com/developers/docs/interactions/receiving-and-responding#security-and-authorization):
// Ed25519 over X-Signature-Timestamp + raw body under the application's public key; PING → PONG.
import assert from "node:assert/strict";
import { test } from "node:test";
import { toHex } from "../../bytes.ts";
import type { WebhookRequest } from "../../define.ts";
import {
  DISCORD_PUBLIC_KEY_ENV,
  discordHandshake,
  discordInteractionId,
  discordInteractions,
  discordInteractionType,
  verifyDiscordRequest,
  verifyDiscordSignature,
} from "./webhook.ts";

/** Web Crypto's types, named through the API so they check under Node's and Deno's typings alike. */
type Key = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
type KeyPair = { publicKey: Key; privateKey: Key };

/**
 * A frozen vector made independently of this code: the key pair of RFC 8032's TEST 1 (public key
 * below), and OpenSSL signing timestamp + body:
 *   openssl pkeyutl -sign -rawin -inkey <TEST 1 key> -in <(printf %s "$TIMESTAMP$BODY")
 */
const FROZEN_PUBLIC_KEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const FROZEN_TIMESTAMP = "1700000000";
const FROZEN_BODY = '{"id":"1234567890","type":1,"application_id":"9876543210","version":1,"token":"tok"}';
const FROZEN_SIGNATURE = "f64ad17d20c77b69bc440b4c2769a6ea0b409ad9217dbc61824db0c467c76ff7" +
  "77a4a8f245efadc1752b75388e9921c7f31d04bbcef1bd29f499f268a2783e03";

function request(rawBody: string, headers: Record<string, string>): WebhookRequest {
  return {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    query: {},
    rawBody: new TextEncoder().encode(rawBody),
    body: JSON.parse(rawBody),
    receivedAt: new Date(1_700_000_001_000),
  };
}

const frozen = (signature = FROZEN_SIGNATURE, timestamp = FROZEN_TIMESTAMP, body = FROZEN_BODY) =>
  request(body, { "x-signature-ed25519": signature, "x-signature-timestamp": timestamp });

async function keyPair(): Promise<{ publicKey: string; sign(data: string): Promise<string> }> {
  const pair = await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]) as KeyPair;
  return {
    publicKey: toHex(new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey))),
    sign: async (data) =>
      toHex(
        new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, new TextEncoder().encode(data))),
      ),
  };
}

test("the frozen vector verifies with the public key from the environment", async () => {
  const env = { [DISCORD_PUBLIC_KEY_ENV]: FROZEN_PUBLIC_KEY };
  assert.equal(await verifyDiscordSignature(frozen(), FROZEN_PUBLIC_KEY), true);
  assert.equal(await verifyDiscordRequest(frozen(), "the hook's own secret", env), true);
  assert.equal(await discordInteractions.verify(frozen(), "whsec_ignored", env), true);
  // Hex in either case, and a key pasted with surrounding blanks.
  assert.equal(
    await verifyDiscordSignature(frozen(FROZEN_SIGNATURE.toUpperCase()), ` ${FROZEN_PUBLIC_KEY.toUpperCase()}\n`),
    true,
  );
});

test("a key pair made here: its signatures verify, another key's do not", async () => {
  const app = await keyPair();
  const other = await keyPair();
  const body = '{"id":"1","type":2,"data":{"name":"hello"}}';
  const timestamp = "1700000001";
  const signed = request(body, {
    "x-signature-ed25519": await app.sign(timestamp + body),
    "x-signature-timestamp": timestamp,
  });
  assert.equal(await verifyDiscordRequest(signed, "", { [DISCORD_PUBLIC_KEY_ENV]: app.publicKey }), true);
  assert.equal(await verifyDiscordRequest(signed, "", { [DISCORD_PUBLIC_KEY_ENV]: other.publicKey }), false);
  const forged = request(body, {
    "x-signature-ed25519": await other.sign(timestamp + body),
    "x-signature-timestamp": timestamp,
  });
  assert.equal(await verifyDiscordRequest(forged, "", { [DISCORD_PUBLIC_KEY_ENV]: app.publicKey }), false);
});

test("without the public key in the environment nothing verifies; the hook's secret is not used", async () => {
  assert.equal(await verifyDiscordRequest(frozen(), FROZEN_PUBLIC_KEY), false);
  assert.equal(await verifyDiscordRequest(frozen(), FROZEN_PUBLIC_KEY, {}), false);
  assert.equal(await verifyDiscordRequest(frozen(), "", { [DISCORD_PUBLIC_KEY_ENV]: "" }), false);
  for (const key of ["not hex", FROZEN_PUBLIC_KEY.slice(2), `${FROZEN_PUBLIC_KEY}00`, "0".repeat(64)]) {
    assert.equal(await verifyDiscordRequest(frozen(), "", { [DISCORD_PUBLIC_KEY_ENV]: key }), false, key);
  }
});

test("a tampered body or timestamp is refused", async () => {
  assert.equal(
    await verifyDiscordSignature(
      frozen(FROZEN_SIGNATURE, FROZEN_TIMESTAMP, FROZEN_BODY.replace("tok", "tak")),
      FROZEN_PUBLIC_KEY,
    ),
    false,
  );
  assert.equal(await verifyDiscordSignature(frozen(FROZEN_SIGNATURE, "1700000001"), FROZEN_PUBLIC_KEY), false);
});

test("missing or garbled headers are refused, never thrown", async () => {
  assert.equal(await verifyDiscordSignature(request(FROZEN_BODY, {}), FROZEN_PUBLIC_KEY), false);
  assert.equal(
    await verifyDiscordSignature(request(FROZEN_BODY, { "x-signature-ed25519": FROZEN_SIGNATURE }), FROZEN_PUBLIC_KEY),
    false,
  );
  assert.equal(
    await verifyDiscordSignature(
      request(FROZEN_BODY, { "x-signature-timestamp": FROZEN_TIMESTAMP }),
      FROZEN_PUBLIC_KEY,
    ),
    false,
  );
  for (
    const signature of [
      "",
      FROZEN_SIGNATURE.slice(2),
      `${FROZEN_SIGNATURE}00`,
      `${FROZEN_SIGNATURE}0`,
      `zz${FROZEN_SIGNATURE.slice(2)}`,
      `0x${FROZEN_SIGNATURE.slice(2)}`,
      Array.from(FROZEN_SIGNATURE.match(/../g)!, (pair) => String.fromCharCode(parseInt(pair, 16))).join(""),
    ]
  ) {
    assert.equal(await verifyDiscordSignature(frozen(signature), FROZEN_PUBLIC_KEY), false, signature);
  }
});

test("PING is answered with PONG as JSON and makes no event; other interactions are events", () => {
  assert.deepEqual(discordHandshake(frozen()), { status: 200, body: '{"type":1}', contentType: "application/json" });
  assert.equal(discordInteractions.handshake, discordHandshake);
  const command = request('{"id":"1122334455","type":2}', {});
  assert.equal(discordHandshake(command), null);
  assert.equal(discordInteractionType(command), 2);
  assert.equal(discordInteractionId(command), "1122334455");
  assert.equal(discordInteractionType(request('{"type":"1"}', {})), null);
  assert.equal(discordHandshake(request('{"type":"1"}', {})), null);
});
