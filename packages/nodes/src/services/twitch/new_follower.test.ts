// twitch/new_follower against the fake Twitch: baseline, new follows firing once, same-second follows,
// cursor pagination newest first, the broadcaster/moderator rule, and the failure classes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import type { FakeTwitch } from "../../../../../tests/support/fakes/twitch.ts";
import { newFollower } from "./new_follower.ts";
import {
  fakeTwitch,
  MODERATED,
  OTHER,
  pathOf,
  polling,
  query,
  STREAMER,
  TOKEN,
  UNSCOPED_TOKEN,
} from "./test_support.ts";

const { poll } = newFollower.trigger.polling!;

function poller(server: FakeTwitch, token = TOKEN) {
  return (cursor: unknown, params: Record<string, unknown> = {}) => poll(polling(server, { token }), params, cursor);
}

const followerRequests = (server: FakeTwitch) =>
  server.requests.filter((request) => pathOf(request.url) === "/helix/channels/followers");

test("the first poll is the baseline: it remembers the newest follow and fires nothing", async (t) => {
  const server = await fakeTwitch(t);
  server.newFollower(STREAMER.id);
  const newest = server.newFollower(STREAMER.id);
  const baseline = await poller(server)(undefined);
  assert.deepEqual(baseline, {
    events: [],
    cursor: {
      broadcaster: "",
      broadcaster_id: STREAMER.id,
      followed_at: newest.followed_at,
      user_ids: [newest.user_id],
    },
  });
  const [me, list] = server.requests;
  assert.equal(me.url, "/helix/users");
  assert.equal(list.method, "GET");
  assert.deepEqual(query(list.url), { broadcaster_id: STREAMER.id, first: "100" });
  assert.equal(list.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(list.headers["client-id"], server.env.TWITCH_CLIENT_ID);

  const nothing = await poller(server)(baseline.cursor);
  assert.deepEqual(nothing, { events: [], cursor: baseline.cursor });
  assert.equal(server.requests.length, 3, "later polls need no user lookup");
});

test("a new follower fires once, oldest first, with its outputs; polling again finds nothing", async (t) => {
  const server = await fakeTwitch(t);
  server.newFollower(STREAMER.id);
  const poll = poller(server);
  const baseline = await poll(undefined);
  const ada = server.follow(STREAMER.id, OTHER.id);
  const bob = server.newFollower(STREAMER.id);

  const result = await poll(baseline.cursor);
  assert.deepEqual(result.events, [
    {
      dedupeKey: `${OTHER.id}@${ada.followed_at}`,
      outputs: {
        user_id: OTHER.id,
        user_login: OTHER.login,
        user_name: OTHER.display_name,
        followed_at: ada.followed_at,
      },
    },
    {
      dedupeKey: `${bob.user_id}@${bob.followed_at}`,
      outputs: {
        user_id: bob.user_id,
        user_login: bob.user_login,
        user_name: bob.user_name,
        followed_at: bob.followed_at,
      },
    },
  ]);
  assert.deepEqual(newFollower.outputs.parse(result.events[0].outputs), result.events[0].outputs);
  assert.deepEqual(newFollower.outputs.parse(newFollower.sample), newFollower.sample, "the sample has the shape");

  const again = await poll(result.cursor);
  assert.deepEqual(again.events, [], "the same follows never fire twice");
  assert.deepEqual(again.cursor, result.cursor);
});

test("follows within the same second as the cursor fire unless already seen", async (t) => {
  const server = await fakeTwitch(t);
  const at = "2026-03-01T10:00:00Z";
  const first = server.newFollower(STREAMER.id, at);
  const poll = poller(server);
  const baseline = await poll(undefined);
  assert.deepEqual((baseline.cursor as { user_ids: string[] }).user_ids, [first.user_id]);

  const sameSecond = server.newFollower(STREAMER.id, at);
  const result = await poll(baseline.cursor);
  assert.deepEqual(result.events.map((event) => event.outputs.user_id), [sameSecond.user_id]);
  assert.deepEqual(
    new Set((result.cursor as { user_ids: string[] }).user_ids),
    new Set([first.user_id, sameSecond.user_id]),
  );
  assert.deepEqual((await poll(result.cursor)).events, []);
});

test("pages newest first with the cursor in `after` until the last known follow", async (t) => {
  const server = await fakeTwitch(t);
  Array.from({ length: 150 }, () => server.newFollower(STREAMER.id));
  const poll = poller(server);
  const baseline = await poll(undefined);

  const burst = Array.from({ length: 250 }, () => server.newFollower(STREAMER.id));
  server.requests.length = 0;
  const result = await poll(baseline.cursor);
  assert.deepEqual(result.events.map((event) => event.outputs.user_id), burst.map((follower) => follower.user_id));
  const pages = followerRequests(server);
  assert.equal(pages.length, 3, "250 new follows: two full pages, then the page that reaches the cursor");
  assert.equal(query(pages[0].url).after, undefined);
  assert.ok(query(pages[1].url).after);
  assert.notEqual(query(pages[2].url).after, query(pages[1].url).after);
  assert.deepEqual(result.cursor, {
    ...(baseline.cursor as object),
    followed_at: burst[249].followed_at,
    user_ids: [burst[249].user_id],
  });

  // A few new ones sit on the first page with older ones: one request is enough.
  const few = Array.from({ length: 30 }, () => server.newFollower(STREAMER.id));
  server.requests.length = 0;
  const next = await poll(result.cursor);
  assert.equal(next.events.length, 30);
  assert.equal(next.events[0].outputs.user_id, few[0].user_id);
  assert.equal(followerRequests(server).length, 1);
});

test("an empty channel's baseline has no time, so its first follower fires", async (t) => {
  const server = await fakeTwitch(t);
  const poll = poller(server);
  const baseline = await poll(undefined);
  assert.deepEqual(baseline.cursor, { broadcaster: "", broadcaster_id: STREAMER.id, followed_at: null, user_ids: [] });
  const follower = server.newFollower(STREAMER.id);
  assert.deepEqual((await poll(baseline.cursor)).events.map((event) => event.outputs.user_id), [follower.user_id]);
});

test("a moderated channel by login works; a channel one neither owns nor moderates is refused by name", async (t) => {
  const server = await fakeTwitch(t);
  server.newFollower(MODERATED.id);
  const poll = poller(server);
  const baseline = await poll(undefined, { broadcaster: "Modded_Channel" });
  assert.equal((baseline.cursor as { broadcaster_id: string }).broadcaster_id, MODERATED.id);
  assert.equal(server.requests[0].url, "/helix/users?login=modded_channel");
  const follower = server.newFollower(MODERATED.id);
  const result = await poll(baseline.cursor, { broadcaster: "modded_channel" });
  assert.deepEqual(result.events.map((event) => event.outputs.user_id), [follower.user_id]);

  // A cursor from another channel (the param changed) is a new baseline, never old follows firing.
  const own = await poll(result.cursor, {});
  assert.deepEqual(own.events, []);
  assert.equal((own.cursor as { broadcaster_id: string }).broadcaster_id, STREAMER.id);

  server.newFollower(OTHER.id);
  await assert.rejects(
    poll(undefined, { broadcaster: OTHER.login }),
    (error) =>
      error instanceof PermanentError && /^broadcaster: .*neither .* nor one of its moderators/.test(error.message),
  );
  await assert.rejects(
    poll(undefined, { broadcaster: "no such login" }),
    (error) => error instanceof PermanentError && /broadcaster/.test(error.message),
  );
});

test("429 waits until Ratelimit-Reset; a refused token or a missing scope is an AuthError", async (t) => {
  const server = await fakeTwitch(t);
  const baseline = await poller(server)(undefined);
  server.rateLimit({ resetInSeconds: 45 });
  await assert.rejects(
    poller(server)(baseline.cursor),
    (error) =>
      error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds !== undefined &&
      error.retryAfterSeconds >= 44 && error.retryAfterSeconds <= 46,
  );
  await assert.rejects(
    poller(server, "expired-token")(baseline.cursor),
    (error) =>
      error instanceof AuthError && error.status === 401 && /Unauthorized: Invalid OAuth token/.test(error.message),
  );
  await assert.rejects(
    poller(server, UNSCOPED_TOKEN)(baseline.cursor),
    (error) => error instanceof AuthError && /moderator:read:followers/.test(error.message),
  );
});
