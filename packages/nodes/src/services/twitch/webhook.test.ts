// Twitch EventSub verification as "Handling webhook events" describes it
// (https://dev.twitch.tv/docs/eventsub/handling-webhook-events): HMAC-SHA256 over message id +
// timestamp + raw body, a 10-minute replay window, the challenge echoed, revocations recognised.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { WebhookRequest } from "../../define.ts";
import { signHmacSha256 } from "../../hmac.ts";
import {
  TWITCH_REPLAY_WINDOW_MS,
  twitchHandshake,
  twitchMessageId,
  twitchMessageType,
  twitchRevocation,
  twitchWebhook,
  verifyTwitchSignature,
} from "./webhook.ts";

const SECRET = "s3cRe7-for-tests";
const MESSAGE_ID = "e76c6bd4-55c9-4987-8304-da1588d8988b";
const TIMESTAMP = "2019-11-16T10:11:12.634234626Z";
const SIGNED_AT = Date.UTC(2019, 10, 16, 10, 11, 12, 634);
/** The verification request of Twitch's docs, compact. */
const CHALLENGE_BODY = '{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":' +
  '"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":' +
  '"channel.follow","version":"2","cost":0,"condition":{"broadcaster_user_id":"12826","moderator_user_id":' +
  '"12826"},"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},' +
  '"created_at":"2019-11-16T10:11:12.634234626Z"}}';
/**
 * Computed independently of this code, with OpenSSL:
 * printf %s "$MESSAGE_ID$TIMESTAMP$CHALLENGE_BODY" | openssl dgst -sha256 -hmac "$SECRET"
 */
const CHALLENGE_SIGNATURE = "sha256=f8300a1ab15772306ad7c90f14d1339770ec0669d8f3b3caacbddaacbbb72896";

function request(
  rawBody: string,
  headers: Record<string, string>,
  receivedAt = new Date(SIGNED_AT + 1_000),
): WebhookRequest {
  return {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    query: {},
    rawBody: new TextEncoder().encode(rawBody),
    body: JSON.parse(rawBody),
    receivedAt,
  };
}

function headers(type: string, signature = CHALLENGE_SIGNATURE, id = MESSAGE_ID, timestamp = TIMESTAMP) {
  return {
    "twitch-eventsub-message-id": id,
    "twitch-eventsub-message-timestamp": timestamp,
    "twitch-eventsub-message-signature": signature,
    "twitch-eventsub-message-type": type,
    "twitch-eventsub-subscription-type": "channel.follow",
    "twitch-eventsub-subscription-version": "2",
  };
}

const challenge = (receivedAt?: Date) => request(CHALLENGE_BODY, headers("webhook_callback_verification"), receivedAt);

test("the frozen vector verifies, also through the trigger's verify", async () => {
  assert.equal(await verifyTwitchSignature(challenge(), SECRET), true);
  assert.equal(await twitchWebhook.verify(challenge(), SECRET, {}), true);
});

test("a notification signed here verifies; its message id is the dedupe key", async () => {
  const body = '{"subscription":{"type":"stream.online"},"event":{"broadcaster_user_login":"cool_user"}}';
  const id = "befa7b53-d79d-478f-86b9-120f112b044e";
  const signature = `sha256=${await signHmacSha256(SECRET, id + TIMESTAMP + body)}`;
  const notification = request(body, headers("notification", signature, id));
  assert.equal(await verifyTwitchSignature(notification, SECRET), true);
  assert.equal(twitchMessageId(notification), id);
  assert.equal(twitchMessageType(notification), "notification");
  assert.equal(twitchHandshake(notification), null);
});

test("a wrong secret, a tampered body, message id or timestamp is refused", async () => {
  assert.equal(await verifyTwitchSignature(challenge(), "s3cRe7-for-test"), false);
  const tampered = request(CHALLENGE_BODY.replace("12826", "12827"), headers("webhook_callback_verification"));
  assert.equal(await verifyTwitchSignature(tampered, SECRET), false);
  const otherId = request(
    CHALLENGE_BODY,
    headers("webhook_callback_verification", CHALLENGE_SIGNATURE, MESSAGE_ID.replace("e76c", "e76d")),
  );
  assert.equal(await verifyTwitchSignature(otherId, SECRET), false);
  const otherTime = request(
    CHALLENGE_BODY,
    headers("webhook_callback_verification", CHALLENGE_SIGNATURE, MESSAGE_ID, "2019-11-16T10:11:12.634234627Z"),
  );
  assert.equal(await verifyTwitchSignature(otherTime, SECRET), false);
});

test("a message older than 10 minutes is refused, as is one more than 10 minutes ahead", async () => {
  assert.equal(TWITCH_REPLAY_WINDOW_MS, 600_000);
  assert.equal(await verifyTwitchSignature(challenge(new Date(SIGNED_AT + 600_000)), SECRET), true);
  assert.equal(await verifyTwitchSignature(challenge(new Date(SIGNED_AT + 600_001)), SECRET), false);
  assert.equal(await verifyTwitchSignature(challenge(new Date(SIGNED_AT + 3_600_000)), SECRET), false);
  assert.equal(await verifyTwitchSignature(challenge(new Date(SIGNED_AT - 600_000)), SECRET), true);
  assert.equal(await verifyTwitchSignature(challenge(new Date(SIGNED_AT - 600_001)), SECRET), false);
});

test("missing or garbled headers are refused, never thrown", async () => {
  const complete = headers("webhook_callback_verification");
  for (const name of Object.keys(complete).slice(0, 3)) {
    const partial: Record<string, string> = { ...complete };
    delete partial[name];
    assert.equal(await verifyTwitchSignature(request(CHALLENGE_BODY, partial), SECRET), false, `without ${name}`);
  }
  const hex = CHALLENGE_SIGNATURE.slice("sha256=".length);
  for (
    const signature of [hex, `sha1=${hex}`, `SHA256=${hex}`, "sha256=", `sha256=${hex.slice(1)}`, `sha256=${hex}0`]
  ) {
    const garbled = request(CHALLENGE_BODY, headers("webhook_callback_verification", signature));
    assert.equal(await verifyTwitchSignature(garbled, SECRET), false, signature);
  }
  for (const timestamp of ["", "1573899072", "2019-11-16 10:11:12.634234626Z", "Sat, 16 Nov 2019 10:11:12 GMT"]) {
    const garbled = request(
      CHALLENGE_BODY,
      headers("webhook_callback_verification", CHALLENGE_SIGNATURE, MESSAGE_ID, timestamp),
    );
    assert.equal(await verifyTwitchSignature(garbled, SECRET), false, timestamp);
  }
  assert.equal(
    await verifyTwitchSignature(request(CHALLENGE_BODY, headers("x", CHALLENGE_SIGNATURE, "")), SECRET),
    false,
  );
  assert.equal(await verifyTwitchSignature(challenge(), ""), false);
});

test("the verification challenge is echoed verbatim as text/plain 200", () => {
  assert.deepEqual(twitchHandshake(challenge()), {
    status: 200,
    body: "pogchamp-kappa-360noscope-vohiyo",
    contentType: "text/plain; charset=utf-8",
  });
  assert.equal(twitchWebhook.handshake, twitchHandshake);
  const without = request('{"subscription":{}}', headers("webhook_callback_verification"));
  const reply = twitchHandshake(without)!;
  assert.equal(reply.status, 400);
  assert.equal(JSON.parse(reply.body).error.code, "invalid_body");
});

test("a revocation is answered 200, makes no event and says why the hook stops", () => {
  const body = '{"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"authorization_revoked",' +
    '"type":"channel.follow","version":"2","cost":0,"condition":{"broadcaster_user_id":"12826"},' +
    '"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},' +
    '"created_at":"2019-11-16T10:11:12.634234626Z"}}';
  const revocation = request(body, headers("revocation"));
  assert.deepEqual(twitchHandshake(revocation), {
    status: 200,
    body: "",
    contentType: "text/plain; charset=utf-8",
    revoked: { reason: "authorization_revoked" },
  });
  assert.deepEqual(twitchRevocation(revocation), {
    reason: "authorization_revoked",
    subscriptionId: "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
    subscriptionType: "channel.follow",
  });
  assert.deepEqual(twitchRevocation(request("{}", headers("revocation"))), {
    reason: "revoked",
    subscriptionId: null,
    subscriptionType: null,
  });
  assert.equal(twitchRevocation(challenge()), null);
});

test("a message type this code does not know is neither a handshake nor a revocation", () => {
  const unknown = request("{}", headers("something_new"));
  assert.equal(twitchMessageType(unknown), null);
  assert.equal(twitchHandshake(unknown), null);
  assert.equal(twitchRevocation(unknown), null);
});
