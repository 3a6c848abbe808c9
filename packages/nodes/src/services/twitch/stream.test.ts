// twitch/stream_online and stream_offline: EventSub notifications mapped to events, and the
// subscription's life at the fake Twitch (the channel resolved with the user's token, the subscription
// created and deleted with an app access token from the client credentials grant, cached).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { WebhookRegistration, WebhookRequest } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { signHmacSha256 } from "../../hmac.ts";
import { streamOffline } from "./stream_offline.ts";
import { streamOnline } from "./stream_online.ts";
import { connected, fakeTwitch, OTHER, pathOf, STREAMER, TOKEN } from "./test_support.ts";

const online = streamOnline.trigger.webhook!;
const offline = streamOffline.trigger.webhook!;
const SECRET = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const ENDPOINT = "https://area.example/functions/v1/webhooks/twitch/6f1c0b7e-7d1a-4c55-9a53-0d6a3c1f2e10";

const registration = (params: Record<string, unknown> = {}): WebhookRegistration => ({
  params,
  endpoint: ENDPOINT,
  secret: SECRET,
});

/** A message as Twitch sends it to the callback, signed with the subscription's secret. */
async function message(
  messageType: string,
  payload: Record<string, unknown>,
  id: string = crypto.randomUUID(),
): Promise<WebhookRequest> {
  const raw = JSON.stringify(payload);
  const timestamp = new Date().toISOString().replace("Z", "123456Z"); // Twitch sends nanoseconds
  return {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "twitch-eventsub-message-id": id,
      "twitch-eventsub-message-timestamp": timestamp,
      "twitch-eventsub-message-signature": `sha256=${await signHmacSha256(SECRET, id + timestamp + raw)}`,
      "twitch-eventsub-message-type": messageType,
      "twitch-eventsub-subscription-type": String((payload.subscription as { type?: unknown })?.type),
      "twitch-eventsub-subscription-version": "1",
    },
    query: {},
    rawBody: new TextEncoder().encode(raw),
    body: payload,
    receivedAt: new Date(),
  };
}

const subscription = (type: string) => ({
  id: "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
  type,
  version: "1",
  status: "enabled",
  cost: 0,
  condition: { broadcaster_user_id: STREAMER.id },
  transport: { method: "webhook", callback: ENDPOINT },
  created_at: "2026-01-01T11:59:00.000000000Z",
});

const onlineEvent = {
  id: "9001",
  broadcaster_user_id: STREAMER.id,
  broadcaster_user_login: STREAMER.login,
  broadcaster_user_name: STREAMER.display_name,
  type: "live",
  started_at: "2026-01-01T12:00:00Z",
};

test("a stream.online notification is one event keyed by its message id, with the stream's outputs", async () => {
  const request = await message("notification", { subscription: subscription("stream.online"), event: onlineEvent });
  assert.equal(await online.verify(request, SECRET, {}), true);
  assert.equal(online.handshake!(request), null);
  const events = online.events(request, {});
  assert.deepEqual(events, [{
    dedupeKey: request.headers["twitch-eventsub-message-id"],
    outputs: {
      broadcaster_id: STREAMER.id,
      broadcaster_login: STREAMER.login,
      broadcaster_name: STREAMER.display_name,
      stream_id: "9001",
      stream_type: "live",
      started_at: "2026-01-01T12:00:00Z",
    },
  }]);
  assert.deepEqual(streamOnline.outputs.parse(events[0].outputs), events[0].outputs);
  assert.deepEqual(streamOnline.outputs.parse(streamOnline.sample), streamOnline.sample, "the sample has the shape");

  // Twitch resends an unacknowledged message with the same id: the same dedupe key, so it fires once.
  const resent = await message(
    "notification",
    { subscription: subscription("stream.online"), event: onlineEvent },
    request.headers["twitch-eventsub-message-id"],
  );
  assert.equal(online.events(resent, {})[0].dedupeKey, events[0].dedupeKey);
  assert.equal(await online.verify(request, "another-secret-entirely", {}), false);
});

test("a stream.offline notification carries the broadcaster", async () => {
  const event = {
    broadcaster_user_id: STREAMER.id,
    broadcaster_user_login: STREAMER.login,
    broadcaster_user_name: STREAMER.display_name,
  };
  const request = await message("notification", { subscription: subscription("stream.offline"), event });
  const [fired] = offline.events(request, {});
  assert.deepEqual(fired.outputs, {
    broadcaster_id: STREAMER.id,
    broadcaster_login: STREAMER.login,
    broadcaster_name: STREAMER.display_name,
  });
  assert.deepEqual(streamOffline.outputs.parse(streamOffline.sample), streamOffline.sample);
});

test("only notifications of the action's own type make events", async () => {
  const verification = await message("webhook_callback_verification", {
    challenge: "pogchamp-kappa-360noscope-vohiyo",
    subscription: { ...subscription("stream.online"), status: "webhook_callback_verification_pending" },
  });
  assert.equal(online.handshake!(verification)?.body, "pogchamp-kappa-360noscope-vohiyo");
  assert.deepEqual(online.events(verification, {}), []);

  const revocation = await message("revocation", {
    subscription: { ...subscription("stream.online"), status: "authorization_revoked" },
  });
  assert.deepEqual(online.handshake!(revocation)?.revoked, { reason: "authorization_revoked" });
  assert.deepEqual(online.events(revocation, {}), []);

  const otherType = await message("notification", { subscription: subscription("stream.offline"), event: {} });
  assert.deepEqual(online.events(otherType, {}), []);
  const noEvent = await message("notification", { subscription: subscription("stream.online") });
  assert.deepEqual(online.events(noEvent, {}), []);
});

test("subscribe: the channel by login with the user's token, the subscription with an app token", async (t) => {
  const server = await fakeTwitch(t);
  const { subscriptionId } = await online.subscribe!(connected(server), registration({ broadcaster: "Other_One" }));

  const [lookup, grant, create] = server.requests;
  assert.equal(server.requests.length, 3);
  assert.equal(lookup.method, "GET");
  assert.equal(lookup.url, "/helix/users?login=other_one");
  assert.equal(lookup.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(lookup.headers["client-id"], server.env.TWITCH_CLIENT_ID);

  assert.equal(grant.method, "POST");
  assert.equal(grant.url, "/oauth2/token");
  assert.match(grant.headers["content-type"]!, /^application\/x-www-form-urlencoded/);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(grant.body)), {
    client_id: server.env.TWITCH_CLIENT_ID,
    client_secret: server.env.TWITCH_CLIENT_SECRET,
    grant_type: "client_credentials",
  });

  assert.equal(create.method, "POST");
  assert.equal(create.url, "/helix/eventsub/subscriptions");
  assert.equal(create.headers.authorization, `Bearer ${server.appTokens[0]}`);
  assert.equal(create.headers["client-id"], server.env.TWITCH_CLIENT_ID);
  assert.match(create.headers["content-type"]!, /^application\/json/);
  assert.deepEqual(JSON.parse(create.body), {
    type: "stream.online",
    version: "1",
    condition: { broadcaster_user_id: OTHER.id },
    transport: { method: "webhook", callback: ENDPOINT, secret: SECRET },
  });
  assert.deepEqual(server.subscriptions.map((s) => [s.id, s.type, s.status]), [
    [subscriptionId, "stream.online", "webhook_callback_verification_pending"],
  ]);
});

test("a blank broadcaster is the connected account's channel; the app token is reused", async (t) => {
  const server = await fakeTwitch(t);
  await online.subscribe!(connected(server), registration({}));
  server.requests.length = 0;
  await offline.subscribe!(connected(server), registration({ broadcaster: "" }));
  assert.deepEqual(server.requests.map((request) => `${request.method} ${request.url}`), [
    "GET /helix/users",
    "POST /helix/eventsub/subscriptions",
  ]);
  assert.equal(server.appTokens.length, 1, "one client credentials grant for both");
  assert.deepEqual(server.subscriptions.map((s) => [s.type, s.condition.broadcaster_user_id]), [
    ["stream.online", STREAMER.id],
    ["stream.offline", STREAMER.id],
  ]);
});

test("an app token about to expire is replaced; one Twitch refuses is replaced once", async (t) => {
  const shortLived = await fakeTwitch(t, { appTokenLifetimeSeconds: 30 });
  await online.subscribe!(connected(shortLived), registration({}));
  await offline.subscribe!(connected(shortLived), registration({}));
  assert.equal(shortLived.appTokens.length, 2, "a token within a minute of expiry is not used");

  const server = await fakeTwitch(t);
  await online.subscribe!(connected(server), registration({}));
  server.invalidateAppTokens();
  server.requests.length = 0;
  await offline.subscribe!(connected(server), registration({}));
  assert.deepEqual(
    server.requests.map((request) => `${request.method} ${pathOf(request.url)} ${request.headers.authorization ?? ""}`),
    [
      "GET /helix/users Bearer streamer-user-token",
      `POST /helix/eventsub/subscriptions Bearer ${server.appTokens[0]}`,
      "POST /oauth2/token ",
      `POST /helix/eventsub/subscriptions Bearer ${server.appTokens[1]}`,
    ],
  );
  assert.equal(server.subscriptions.length, 2);
});

test("a refused application is the operator's to fix: permanent, never the user's connection", async (t) => {
  const server = await fakeTwitch(t);
  await assert.rejects(
    online.subscribe!(connected(server, { env: { TWITCH_CLIENT_SECRET: "wrong-secret-value" } }), registration()),
    (error) =>
      error instanceof PermanentError && !(error instanceof AuthError) && error.status === 403 &&
      /TWITCH_CLIENT_SECRET/.test(error.message) && /invalid client secret/.test(error.message),
  );
  await assert.rejects(
    online.subscribe!(connected(server, { env: { TWITCH_CLIENT_ID: "" } }), registration()),
    (error) => error instanceof PermanentError && /TWITCH_CLIENT_ID is not set/.test(error.message),
  );
  assert.equal(server.subscriptions.length, 0);
});

test("a retried subscribe that meets 409 adopts the subscription it made, paging through the list", async (t) => {
  const server = await fakeTwitch(t, { subscriptionPageSize: 1 });
  // Someone else's subscription of the same type comes first in the list.
  await online.subscribe!(connected(server), { ...registration({ broadcaster: "other_one" }) });
  const first = await online.subscribe!(connected(server), registration({}));
  server.requests.length = 0;

  const again = await online.subscribe!(connected(server), registration({}));
  assert.deepEqual(again, first);
  assert.equal(server.subscriptions.length, 2);
  const lists = server.requests.filter((request) => request.method === "GET" && request.url.includes("eventsub"));
  assert.equal(lists.length, 2, "the second page holds it");
  assert.equal(new URL(lists[0].url, "http://x").searchParams.get("type"), "stream.online");
  assert.ok(new URL(lists[1].url, "http://x").searchParams.get("after"));
});

test("unsubscribe deletes the subscription by id with the app token; 404 means already gone", async (t) => {
  const server = await fakeTwitch(t);
  const { subscriptionId } = await online.subscribe!(connected(server), registration({}));
  server.requests.length = 0;
  await online.unsubscribe!(connected(server), { ...registration({}), subscriptionId });
  const [request] = server.requests;
  assert.equal(request.method, "DELETE");
  assert.equal(request.url, `/helix/eventsub/subscriptions?id=${subscriptionId}`);
  assert.equal(request.headers.authorization, `Bearer ${server.appTokens[0]}`);
  assert.equal(server.subscriptions.length, 0);

  await online.unsubscribe!(connected(server), { ...registration({}), subscriptionId });
  assert.equal(server.requests.at(-1)!.method, "DELETE");
});

test("subscribe: 429 waits until Ratelimit-Reset, a refused user token is an AuthError, an unknown login permanent", async (t) => {
  const server = await fakeTwitch(t);
  server.rateLimit({ resetInSeconds: 30 });
  await assert.rejects(
    online.subscribe!(connected(server), registration({})),
    (error) =>
      error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds !== undefined &&
      error.retryAfterSeconds >= 29 && error.retryAfterSeconds <= 31 &&
      /Too Many Requests/.test(error.message),
  );
  await assert.rejects(
    online.subscribe!(connected(server, { token: "revoked-token" }), registration({})),
    (error) => error instanceof AuthError && error.status === 401 && /Invalid OAuth token/.test(error.message),
  );
  await assert.rejects(
    online.subscribe!(connected(server), registration({ broadcaster: "nobody_here" })),
    (error) =>
      error instanceof PermanentError && /broadcaster: Twitch has no user named "nobody_here"/.test(error.message),
  );
  await assert.rejects(
    online.subscribe!(connected(server), registration({ broadcaster: "not a login!" })),
    (error) => error instanceof PermanentError && /broadcaster/.test(error.message),
  );
  assert.equal(server.subscriptions.length, 0);
});
