// GitHub webhook verification, checked against the test values GitHub publishes in "Validating
// webhook deliveries" (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { WebhookRequest } from "../../define.ts";
import { signHmacSha256 } from "../../hmac.ts";
import {
  githubDeliveryId,
  githubEvent,
  githubHandshake,
  githubPayload,
  githubWebhook,
  verifyGithubSignature,
} from "./webhook.ts";

// GitHub's published test values.
const DOCS_SECRET = "It's a Secret to Everybody";
const DOCS_PAYLOAD = "Hello, World!";
const DOCS_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

function request(rawBody: string, headers: Record<string, string> = {}, body?: unknown): WebhookRequest {
  return {
    method: "POST",
    headers,
    query: {},
    rawBody: new TextEncoder().encode(rawBody),
    body: body === undefined ? rawBody : body,
    receivedAt: new Date("2026-01-01T12:00:00.000Z"),
  };
}

test("GitHub's published test vector verifies", async () => {
  assert.equal(
    await verifyGithubSignature(request(DOCS_PAYLOAD, { "x-hub-signature-256": DOCS_SIGNATURE }), DOCS_SECRET),
    true,
  );
  // Through the trigger's verify, which ignores the environment.
  const verified = await githubWebhook.verify(
    request(DOCS_PAYLOAD, { "x-hub-signature-256": DOCS_SIGNATURE }),
    DOCS_SECRET,
    {},
  );
  assert.equal(verified, true);
});

test("a wrong secret, a tampered body or another signature is refused", async () => {
  const signed = (body: string) => request(body, { "x-hub-signature-256": DOCS_SIGNATURE });
  assert.equal(await verifyGithubSignature(signed(DOCS_PAYLOAD), "It's a secret to everybody"), false);
  assert.equal(await verifyGithubSignature(signed("Hello, World?"), DOCS_SECRET), false);
  assert.equal(await verifyGithubSignature(signed(`${DOCS_PAYLOAD}\n`), DOCS_SECRET), false);
  const other = `sha256=${await signHmacSha256("another secret", DOCS_PAYLOAD)}`;
  assert.equal(
    await verifyGithubSignature(request(DOCS_PAYLOAD, { "x-hub-signature-256": other }), DOCS_SECRET),
    false,
  );
});

test("missing or garbled signature headers are refused, never thrown", async () => {
  const hex = DOCS_SIGNATURE.slice("sha256=".length);
  const sha1 = "sha1=" + "0".repeat(40);
  assert.equal(await verifyGithubSignature(request(DOCS_PAYLOAD), DOCS_SECRET), false);
  // The legacy SHA-1 header alone is not enough.
  assert.equal(await verifyGithubSignature(request(DOCS_PAYLOAD, { "x-hub-signature": sha1 }), DOCS_SECRET), false);
  for (
    const header of [
      hex,
      `sha1=${hex}`,
      `SHA256=${hex}`,
      ` sha256=${hex}`,
      "sha256=",
      `sha256=${hex.slice(2)}`,
      `sha256=${hex}00`,
      `sha256=zz${hex.slice(2)}`,
      `sha256=${hex} `,
    ]
  ) {
    const garbled = request(DOCS_PAYLOAD, { "x-hub-signature-256": header });
    assert.equal(await verifyGithubSignature(garbled, DOCS_SECRET), false, header);
  }
  // A hook without a secret verifies nothing (and an empty HMAC key is not an exception).
  assert.equal(
    await verifyGithubSignature(request(DOCS_PAYLOAD, { "x-hub-signature-256": DOCS_SIGNATURE }), ""),
    false,
  );
});

test("the signature is over the raw bytes, whatever the parsed body", async () => {
  const raw = '{"zen":"Keep it logically awesome.", "hook_id":1}';
  const headers = { "x-hub-signature-256": `sha256=${await signHmacSha256("s", raw)}` };
  assert.equal(await verifyGithubSignature(request(raw, headers, JSON.parse(raw)), "s"), true);
});

test("ping is answered 200 with JSON and makes no event; other events are not handshakes", () => {
  assert.deepEqual(githubHandshake(request("{}", { "x-github-event": "ping" })), {
    status: 200,
    body: '{"status":"pong"}',
    contentType: "application/json",
  });
  assert.equal(githubHandshake(request("{}", { "x-github-event": "push" })), null);
  assert.equal(githubHandshake(request("{}")), null);
  assert.equal(githubWebhook.handshake, githubHandshake);
});

test("the delivery id and the event name come from GitHub's headers", () => {
  const headers = { "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "x-github-event": "issues" };
  assert.equal(githubDeliveryId(request("{}", headers)), "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  assert.equal(githubEvent(request("{}", headers)), "issues");
  assert.equal(githubDeliveryId(request("{}")), null);
  assert.equal(githubEvent(request("{}", { "x-github-event": " " })), null);
});

test("the payload is the JSON body, or the payload field of a form-encoded delivery", () => {
  assert.deepEqual(githubPayload(request("", {}, { action: "opened" })), { action: "opened" });
  const form = `payload=${encodeURIComponent('{"action":"created"}')}`;
  assert.deepEqual(githubPayload(request(form)), { action: "created" });
  assert.equal(githubPayload(request("payload=not-json")), null);
  assert.equal(githubPayload(request("other=1")), null);
  assert.equal(githubPayload(request("", {}, [1, 2])), null);
});
