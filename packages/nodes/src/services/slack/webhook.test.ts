// Slack request verification, checked against the worked example of "Verifying requests from
// Slack" (https://api.slack.com/authentication/verifying-requests-from-slack), and the
// url_verification handshake (https://api.slack.com/events/url_verification).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { WebhookRequest } from "../../define.ts";
import { signHmacSha256 } from "../../hmac.ts";
import {
  SLACK_REPLAY_WINDOW_MS,
  SLACK_SIGNING_SECRET_ENV,
  slackEventId,
  slackHandshake,
  slackPayloadType,
  slackWebhook,
  verifySlackRequest,
  verifySlackSignature,
} from "./webhook.ts";

// Slack's worked example (a slash command's form-encoded body).
const DOCS_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const DOCS_TIMESTAMP = "1531420618";
const DOCS_BODY = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&" +
  "channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=" +
  "https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=" +
  "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const DOCS_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const SIGNED_AT = Number(DOCS_TIMESTAMP) * 1000;
const env = { [SLACK_SIGNING_SECRET_ENV]: DOCS_SECRET };

function request(
  rawBody: string,
  headers: Record<string, string>,
  receivedAt = new Date(SIGNED_AT),
  body: unknown = rawBody,
): WebhookRequest {
  return { method: "POST", headers, query: {}, rawBody: new TextEncoder().encode(rawBody), body, receivedAt };
}

const docsHeaders = (signature = DOCS_SIGNATURE, timestamp = DOCS_TIMESTAMP) => ({
  "content-type": "application/x-www-form-urlencoded",
  "x-slack-request-timestamp": timestamp,
  "x-slack-signature": signature,
});
const docsRequest = (receivedAt?: Date) => request(DOCS_BODY, docsHeaders(), receivedAt);

async function eventRequest(payload: Record<string, unknown>, receivedAt = new Date(SIGNED_AT)) {
  const raw = JSON.stringify(payload);
  const signature = `v0=${await signHmacSha256(DOCS_SECRET, `v0:${DOCS_TIMESTAMP}:${raw}`)}`;
  return request(raw, { ...docsHeaders(signature), "content-type": "application/json" }, receivedAt, payload);
}

test("Slack's worked example verifies with the app's signing secret from the environment", async () => {
  assert.equal(await verifySlackSignature(docsRequest(), DOCS_SECRET), true);
  assert.equal(await verifySlackRequest(docsRequest(), "the hook's own secret", env), true);
  assert.equal(await slackWebhook.verify(docsRequest(), "whsec_ignored", env), true);
});

test("without the signing secret in the environment nothing verifies; the hook's secret is not used", async () => {
  assert.equal(await verifySlackRequest(docsRequest(), DOCS_SECRET), false);
  assert.equal(await verifySlackRequest(docsRequest(), DOCS_SECRET, {}), false);
  assert.equal(await verifySlackRequest(docsRequest(), DOCS_SECRET, { [SLACK_SIGNING_SECRET_ENV]: "" }), false);
  assert.equal(await verifySlackSignature(docsRequest(), undefined), false);
});

test("a wrong signing secret or a tampered body is refused", async () => {
  assert.equal(
    await verifySlackRequest(docsRequest(), "", { [SLACK_SIGNING_SECRET_ENV]: "8f742231b10e8888abcd99yyyzzz85a6" }),
    false,
  );
  const tampered = request(DOCS_BODY.replace("text=", "text=hi"), docsHeaders());
  assert.equal(await verifySlackSignature(tampered, DOCS_SECRET), false);
  // The timestamp is signed too: moving it (within the window) breaks the signature.
  const moved = request(DOCS_BODY, docsHeaders(DOCS_SIGNATURE, "1531420619"));
  assert.equal(await verifySlackSignature(moved, DOCS_SECRET), false);
});

test("a request more than five minutes old, or ahead, is refused", async () => {
  assert.equal(SLACK_REPLAY_WINDOW_MS, 300_000);
  assert.equal(await verifySlackSignature(docsRequest(new Date(SIGNED_AT + 300_000)), DOCS_SECRET), true);
  assert.equal(await verifySlackSignature(docsRequest(new Date(SIGNED_AT + 300_001)), DOCS_SECRET), false);
  assert.equal(await verifySlackSignature(docsRequest(new Date(SIGNED_AT + 86_400_000)), DOCS_SECRET), false);
  assert.equal(await verifySlackSignature(docsRequest(new Date(SIGNED_AT - 300_000)), DOCS_SECRET), true);
  assert.equal(await verifySlackSignature(docsRequest(new Date(SIGNED_AT - 300_001)), DOCS_SECRET), false);
});

test("missing or garbled headers are refused, never thrown", async () => {
  assert.equal(await verifySlackSignature(request(DOCS_BODY, {}), DOCS_SECRET), false);
  assert.equal(
    await verifySlackSignature(request(DOCS_BODY, { "x-slack-signature": DOCS_SIGNATURE }), DOCS_SECRET),
    false,
  );
  assert.equal(
    await verifySlackSignature(request(DOCS_BODY, { "x-slack-request-timestamp": DOCS_TIMESTAMP }), DOCS_SECRET),
    false,
  );
  const hex = DOCS_SIGNATURE.slice("v0=".length);
  for (
    const signature of [
      hex,
      `v1=${hex}`,
      `V0=${hex}`,
      `sha256=${hex}`,
      "v0=",
      `v0=${hex.slice(2)}`,
      `v0=zz${hex.slice(2)}`,
    ]
  ) {
    assert.equal(await verifySlackSignature(request(DOCS_BODY, docsHeaders(signature)), DOCS_SECRET), false, signature);
  }
  for (const timestamp of ["", "1531420618.0", "-1531420618", " 1531420618", "2018-07-12T18:36:58Z", "abc"]) {
    const garbled = request(DOCS_BODY, docsHeaders(DOCS_SIGNATURE, timestamp));
    assert.equal(await verifySlackSignature(garbled, DOCS_SECRET), false, timestamp);
  }
});

test("url_verification gets its challenge back as text/plain 200", async () => {
  const verification = await eventRequest({
    token: "Jhj5dZrVaK7ZwHHjRyZWjbDl",
    challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    type: "url_verification",
  });
  assert.equal(await verifySlackRequest(verification, "", env), true);
  assert.deepEqual(slackHandshake(verification), {
    status: 200,
    body: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    contentType: "text/plain; charset=utf-8",
  });
  assert.equal(slackWebhook.handshake, slackHandshake);
  const without = await eventRequest({ type: "url_verification" });
  assert.equal(slackHandshake(without)!.status, 400);
});

test("app_rate_limited is acknowledged; event callbacks are events, keyed by event_id", async () => {
  const limited = await eventRequest({ type: "app_rate_limited", team_id: "T123456", minute_rate_limited: 1518467820 });
  assert.deepEqual(slackHandshake(limited), { status: 200, body: "", contentType: "text/plain; charset=utf-8" });

  const callback = await eventRequest({
    type: "event_callback",
    team_id: "T123ABC456",
    api_app_id: "A123ABC456",
    event: {
      type: "message",
      channel: "C123ABC456",
      user: "U123ABC456",
      text: "Live long and prospect.",
      ts: "1355517523.000005",
    },
    event_id: "Ev123ABC456",
    event_time: 1355517523,
  });
  assert.equal(await verifySlackRequest(callback, "", env), true);
  assert.equal(slackPayloadType(callback), "event_callback");
  assert.equal(slackHandshake(callback), null);
  assert.equal(slackEventId(callback), "Ev123ABC456");
  assert.equal(slackEventId(docsRequest()), null);
  assert.equal(slackPayloadType(docsRequest()), null);
});
