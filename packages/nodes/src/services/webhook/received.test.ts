// The generic webhook: X-Area-Signature verification and the event it makes.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { WebhookRequest } from "../../define.ts";
import { signHmacSha256 } from "../../hmac.ts";
import { received } from "./received.ts";

const secret = "whsec_test";
const webhook = received.trigger.webhook!;

function request(body: string, headers: Record<string, string> = {}): WebhookRequest {
  return {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    query: { source: "ci" },
    rawBody: new TextEncoder().encode(body),
    body: JSON.parse(body),
    receivedAt: new Date("2026-01-01T12:00:00.000Z"),
  };
}

async function signed(body: string, headers: Record<string, string> = {}): Promise<WebhookRequest> {
  return request(body, { "x-area-signature": `sha256=${await signHmacSha256(secret, body)}`, ...headers });
}

test("a body signed with the hook's secret is accepted, in either hex case", async () => {
  const body = '{"text":"hi"}';
  assert.equal(await webhook.verify(await signed(body), secret), true);
  const upper = `sha256=${(await signHmacSha256(secret, body)).toUpperCase()}`;
  assert.equal(await webhook.verify(request(body, { "x-area-signature": upper }), secret), true);
});

test("a signature made with another secret is refused", async () => {
  const body = '{"text":"hi"}';
  const forged = `sha256=${await signHmacSha256("another secret", body)}`;
  assert.equal(await webhook.verify(request(body, { "x-area-signature": forged }), secret), false);
});

test("a request without the signature header is refused", async () => {
  assert.equal(await webhook.verify(request('{"text":"hi"}'), secret), false);
});

test("a signature without the sha256= prefix, or not hex, is refused", async () => {
  const body = '{"text":"hi"}';
  const hex = await signHmacSha256(secret, body);
  for (
    const header of [
      hex,
      `sha1=${hex}`,
      `SHA256=${hex}`,
      "sha256=",
      `sha256=${hex.slice(2)}`,
      `sha256=zz${hex.slice(2)}`,
    ]
  ) {
    assert.equal(await webhook.verify(request(body, { "x-area-signature": header }), secret), false, header);
  }
});

test("a tampered body is refused", async () => {
  const original = await signed('{"amount":1}');
  const tampered = request('{"amount":1000}', { "x-area-signature": original.headers["x-area-signature"] });
  assert.equal(await webhook.verify(tampered, secret), false);
});

test("the event carries body, visible headers, query and received_at", async () => {
  const [event] = webhook.events(
    await signed('{"text":"hi"}', {
      authorization: "Bearer t",
      cookie: "s=1",
      apikey: "anon",
      "x-forwarded-for": "203.0.113.9",
      "x-custom": "kept",
    }),
    {},
  );
  assert.deepEqual(event.outputs, {
    body: { text: "hi" },
    headers: { "content-type": "application/json", "x-custom": "kept" },
    query: { source: "ci" },
    received_at: "2026-01-01T12:00:00.000Z",
  });
});

test("the dedupe key is the sender's X-Area-Delivery id, trimmed and capped, else a fresh UUID", () => {
  const key = (headers: Record<string, string>) => webhook.events(request("{}", headers), {})[0].dedupeKey;
  assert.equal(key({ "x-area-delivery": "  delivery-42 " }), "delivery-42");
  assert.equal(key({ "x-area-delivery": "d".repeat(500) }), "d".repeat(200));
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const [first, second] = [key({}), key({ "x-area-delivery": "   " })];
  assert.match(first, uuid);
  assert.match(second, uuid);
  assert.notEqual(first, second);
});
