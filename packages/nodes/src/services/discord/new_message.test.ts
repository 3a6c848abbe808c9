// discord/new_message against the fake Discord API: baseline, after-id pagination, dedupe, filters,
// and the failure classes, through the context the worker builds.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import type { PollResult } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { type FakeDiscord, startFakeDiscord } from "../../../../../tests/support/fakes/discord.ts";
import { pollContext } from "../../../../../tests/support/node_context.ts";
import { newMessage } from "./new_message.ts";
import { discord } from "./service.ts";

const TOKEN = "bot.token.valid";
const CHANNEL = "1100000000000000001";
const EMPTY_CHANNEL = "1100000000000000002";
const BOT = { id: "1200000000000000001", username: "area-bot" };
const polling = newMessage.trigger.polling!;

async function fake(t: TestContext): Promise<FakeDiscord> {
  const server = await startFakeDiscord({ bots: { [TOKEN]: BOT }, channels: [CHANNEL, EMPTY_CHANNEL] });
  t.after(() => server.close());
  return server;
}

function poller(server: FakeDiscord, channelId = CHANNEL, token = TOKEN) {
  const ctx = pollContext(discord, { credentials: { bot_token: token }, env: { DISCORD_API_URL: server.apiUrl } });
  return (cursor: unknown, params: Record<string, unknown> = {}) =>
    polling.poll(ctx, newMessage.params.parse({ channel_id: channelId, ...params }), cursor);
}

const query = (url: string) => Object.fromEntries(new URL(url, "http://x").searchParams);

test("the first poll is the baseline: it remembers the newest message and fires nothing", async (t) => {
  const server = await fake(t);
  server.post(CHANNEL, { content: "old 1" });
  const newest = server.post(CHANNEL, { content: "old 2" });
  const baseline = await poller(server)(undefined);
  assert.deepEqual(baseline, { events: [], cursor: { after: newest.id } });
  assert.equal(server.requests.length, 1);
  assert.equal(server.requests[0].url, `/api/v10/channels/${CHANNEL}/messages?limit=1`);
  assert.equal(server.requests[0].headers.authorization, `Bot ${TOKEN}`);
  assert.match(server.requests[0].headers["user-agent"]!, /^DiscordBot \(/);

  const nothing = await poller(server)(baseline.cursor);
  assert.deepEqual(nothing, { events: [], cursor: baseline.cursor });
  assert.deepEqual(query(server.requests[1].url), { after: newest.id, limit: "100" });
});

test("a new message fires once, with its outputs; polling again finds nothing", async (t) => {
  const server = await fake(t);
  server.post(CHANNEL, { content: "before" });
  const poll = poller(server);
  const baseline = await poll(undefined);
  const first = server.post(CHANNEL, { content: "first", author: { id: "300", username: "ada" } });
  const second = server.post(CHANNEL, { content: "second", author: { id: "301", username: "bob" } });

  const result = await poll(baseline.cursor);
  assert.deepEqual(result.events, [
    {
      dedupeKey: first.id,
      outputs: {
        id: first.id,
        content: "first",
        author: { id: "300", username: "ada" },
        timestamp: first.timestamp,
        channel_id: CHANNEL,
      },
    },
    {
      dedupeKey: second.id,
      outputs: {
        id: second.id,
        content: "second",
        author: { id: "301", username: "bob" },
        timestamp: second.timestamp,
        channel_id: CHANNEL,
      },
    },
  ]);
  assert.deepEqual(result.cursor, { after: second.id });
  assert.deepEqual(newMessage.outputs.parse(result.events[0].outputs), result.events[0].outputs);
  assert.deepEqual(newMessage.outputs.parse(newMessage.sample), newMessage.sample, "the sample has the outputs' shape");

  const again = await poll(result.cursor);
  assert.deepEqual(again.events, [], "the same messages never fire twice");
});

test("an empty channel's baseline starts at 0, so its first message fires", async (t) => {
  const server = await fake(t);
  const poll = poller(server, EMPTY_CHANNEL);
  const baseline = await poll(undefined);
  assert.deepEqual(baseline.cursor, { after: "0" });
  const message = server.post(EMPTY_CHANNEL, { content: "hello" });
  const result = await poll(baseline.cursor);
  assert.deepEqual(result.events.map((event) => event.dedupeKey), [message.id]);
});

test("pages forward with after= until a short page, oldest first, and stops at 10 pages a poll", async (t) => {
  const server = await fake(t);
  const poll = poller(server);
  const baseline = await poll(undefined);
  const posted = Array.from({ length: 1_050 }, (_, i) => server.post(CHANNEL, { content: `m${i}` }));
  server.requests.length = 0;

  const first: PollResult = await poll(baseline.cursor);
  assert.equal(first.events.length, 1_000);
  assert.deepEqual(first.events.map((event) => event.dedupeKey), posted.slice(0, 1_000).map((message) => message.id));
  assert.deepEqual(first.cursor, { after: posted[999].id });
  // Ten full pages: after the baseline, then after the last message of each page.
  const pageEnds = [100, 200, 300, 400, 500, 600, 700, 800, 900].map((n) => posted[n - 1].id);
  const { after: baselineAfter } = baseline.cursor as { after: string };
  assert.deepEqual(server.requests.map((request) => query(request.url).after), [baselineAfter, ...pageEnds]);

  server.requests.length = 0;
  const rest = await poll(first.cursor);
  assert.deepEqual(rest.events.map((event) => event.outputs.content), posted.slice(1_000).map((m) => m.content));
  assert.deepEqual(rest.cursor, { after: posted[1_049].id });
  assert.equal(server.requests.length, 1, "a short page ends the poll");
});

test("bots, webhooks and system messages do not fire unless include_bots; the cursor passes them", async (t) => {
  const server = await fake(t);
  const poll = poller(server);
  const baseline = await poll(undefined);
  server.post(CHANNEL, { content: "from a bot", author: { id: "400", username: "other-bot", bot: true } });
  server.post(CHANNEL, { content: "from a webhook", webhook_id: "500", author: { id: "500", username: "hook" } });
  server.post(CHANNEL, { content: "", type: 7 }); // a member joined
  const person = server.post(CHANNEL, { content: "from a person" });
  const reply = server.post(CHANNEL, { content: "a reply", type: 19 });

  const result = await poll(baseline.cursor);
  assert.deepEqual(result.events.map((event) => event.outputs.content), ["from a person", "a reply"]);
  assert.deepEqual(result.cursor, { after: reply.id });

  const withBots = await poll(baseline.cursor, { include_bots: true });
  assert.deepEqual(withBots.events.map((event) => event.outputs.content), [
    "from a bot",
    "from a webhook",
    person.content,
    "a reply",
  ]);
});

test("a refused token is an AuthError; an unknown channel is permanent; 429 is retryable with its wait", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    poller(server, CHANNEL, "revoked.token")(undefined),
    (error) => error instanceof AuthError && error.status === 401,
  );
  await assert.rejects(
    poller(server, "1100000000000000999")({ after: "0" }),
    (error) => error instanceof PermanentError && !(error instanceof AuthError) && error.status === 404,
  );
  server.rateLimit({ retryAfter: 30 });
  await assert.rejects(
    poller(server)({ after: "0" }),
    (error) => error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 30,
  );
  await assert.rejects(
    polling.poll(
      pollContext(discord, { credentials: { bot_token: TOKEN }, env: { DISCORD_API_URL: server.apiUrl } }),
      { channel_id: "not-an-id" },
      undefined,
    ),
    (error) => error instanceof PermanentError && /channel_id/.test(error.message),
  );
});

test("a cursor that is not ours is a new baseline, never a flood of old messages", async (t) => {
  const server = await fake(t);
  server.post(CHANNEL, { content: "old" });
  const result = await poller(server)({ after: "not a snowflake" });
  assert.deepEqual(result.events, []);
  assert.equal(query(server.requests[0].url).limit, "1");
});
