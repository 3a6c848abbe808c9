// discord/send_message against the fake Discord API, through the context the worker builds.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { type FakeDiscord, startFakeDiscord } from "../../../../../tests/support/fakes/discord.ts";
import { reactionContext } from "../../../../../tests/support/node_context.ts";
import { DISCORD_USER_AGENT, discordBotIdentity } from "./api.ts";
import { sendMessage } from "./send_message.ts";
import { discord } from "./service.ts";

const TOKEN = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs";
const CHANNEL = "1100000000000000001";
const BOT = { id: "1200000000000000001", username: "area-bot" };

async function fake(t: TestContext): Promise<FakeDiscord> {
  const server = await startFakeDiscord({ bots: { [TOKEN]: BOT }, channels: [CHANNEL] });
  t.after(() => server.close());
  return server;
}

const context = (server: FakeDiscord, options: { token?: string | null; idempotencyKey?: string } = {}) =>
  reactionContext(discord, {
    credentials: options.token === null ? {} : { bot_token: options.token ?? TOKEN },
    env: { DISCORD_API_URL: server.apiUrl },
    idempotencyKey: options.idempotencyKey,
  });

test("posts the message as the bot with Discord's headers; returns its id and channel", async (t) => {
  const server = await fake(t);
  const embeds = [{ title: "Build #42", description: "passed", color: 5814783 }];
  const output = await sendMessage.run(context(server), { channel_id: CHANNEL, content: "Deploy finished", embeds });

  const [message] = server.messages(CHANNEL);
  assert.deepEqual(output, { id: message.id, channel_id: CHANNEL });
  assert.equal(message.content, "Deploy finished");
  assert.deepEqual(message.embeds, embeds);
  assert.equal(message.author.id, BOT.id);

  const [request] = server.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.url, `/api/v10/channels/${CHANNEL}/messages`);
  assert.equal(request.headers.authorization, `Bot ${TOKEN}`);
  assert.equal(request.headers["user-agent"], DISCORD_USER_AGENT);
  assert.match(DISCORD_USER_AGENT, /^DiscordBot \(.+, .+\)$/);
  assert.match(request.headers["content-type"]!, /^application\/json/);
  const body = JSON.parse(request.body);
  assert.deepEqual(body.allowed_mentions, { parse: ["users", "roles"] }, "no @everyone from event text by default");
  assert.match(body.nonce, /^[0-9a-f]{25}$/);
  assert.equal(body.enforce_nonce, true);
});

test("a retried send (same idempotency key) returns the first message instead of posting twice", async (t) => {
  const server = await fake(t);
  const first = await sendMessage.run(context(server, { idempotencyKey: "log-1:reaction-1" }), {
    channel_id: CHANNEL,
    content: "once",
  });
  const again = await sendMessage.run(context(server, { idempotencyKey: "log-1:reaction-1" }), {
    channel_id: CHANNEL,
    content: "once",
  });
  const other = await sendMessage.run(context(server, { idempotencyKey: "log-2:reaction-1" }), {
    channel_id: CHANNEL,
    content: "once",
  });
  assert.deepEqual(again, first);
  assert.notEqual(other.id, first.id);
  assert.equal(server.messages(CHANNEL).length, 2);
  assert.equal(server.requests[0].headers["idempotency-key"], "log-1:reaction-1");
});

test("embeds rendered as JSON text are accepted; mass mentions only when allowed", async (t) => {
  const server = await fake(t);
  await sendMessage.run(context(server), {
    channel_id: CHANNEL,
    embeds: '[{"title":"From a template"}]',
    allow_mass_mentions: true,
  });
  const body = JSON.parse(server.requests[0].body);
  assert.deepEqual(body.embeds, [{ title: "From a template" }]);
  assert.equal("content" in body, false);
  assert.deepEqual(body.allowed_mentions, { parse: ["users", "roles", "everyone"] });
});

test("params that cannot be right fail permanently before any request", async (t) => {
  const server = await fake(t);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ channel_id: CHANNEL }, /some content or at least one embed/],
    [{ channel_id: CHANNEL, content: "   " }, /some content or at least one embed/],
    [{ channel_id: CHANNEL, content: "x".repeat(2001) }, /content/],
    [{ channel_id: CHANNEL, embeds: Array.from({ length: 11 }, () => ({ title: "t" })) }, /embeds/],
    [{ channel_id: CHANNEL, embeds: "[{not json" }, /not valid JSON/],
    [{ channel_id: "general", content: "x" }, /channel_id/],
  ];
  for (const [params, message] of cases) {
    await assert.rejects(
      sendMessage.run(context(server), params),
      (error) => error instanceof PermanentError && message.test(error.message),
      JSON.stringify(params).slice(0, 80),
    );
  }
  assert.equal(server.requests.length, 0);
});

test("a refused bot token is an AuthError (the connection needs reconnecting); none at all too", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    sendMessage.run(context(server, { token: "revoked.token.value" }), { channel_id: CHANNEL, content: "x" }),
    (error) => error instanceof AuthError && error.status === 401 && /401: Unauthorized \(0\)/.test(error.message),
  );
  assert.equal(server.requests.length, 1);
  await assert.rejects(
    sendMessage.run(context(server, { token: null }), { channel_id: CHANNEL, content: "x" }),
    (error) => error instanceof AuthError && /no bot token/.test(error.message),
  );
  assert.equal(server.requests.length, 1, "no request without a token");
});

test("Discord's 400 Invalid Form Body and 404 Unknown Channel are permanent, in Discord's words", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    sendMessage.run(context(server), { channel_id: CHANNEL, embeds: [{ title: "t".repeat(257) }] }),
    (error) =>
      error instanceof PermanentError && !(error instanceof AuthError) && error.status === 400 &&
      /Invalid Form Body \(50035\): embeds\.0\.title: Must be 256 or fewer in length\./.test(error.message),
  );
  await assert.rejects(
    sendMessage.run(context(server), { channel_id: "1100000000000000999", content: "x" }),
    (error) =>
      error instanceof PermanentError && error.status === 404 && /Unknown Channel \(10003\)/.test(error.message),
  );
  assert.equal(server.messages(CHANNEL).length, 0);
});

test("429 is retryable after Retry-After, or after the body's retry_after when the header is missing", async (t) => {
  const server = await fake(t);
  server.rateLimit({ retryAfter: 64.57 });
  await assert.rejects(
    sendMessage.run(context(server), { channel_id: CHANNEL, content: "x" }),
    (error) =>
      error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 65 &&
      /You are being rate limited/.test(error.message),
  );
  server.rateLimit({ retryAfter: 2.5, header: false, global: true });
  await assert.rejects(
    sendMessage.run(context(server), { channel_id: CHANNEL, content: "x" }),
    (error) =>
      error instanceof RetryableError && error.retryAfterSeconds === 3 && /global rate limit/.test(error.message),
  );
  assert.equal(server.requests.length, 2, "a 429 is not retried within the call");
  assert.equal(server.messages(CHANNEL).length, 0);
});

test("the bot behind a token: what an api_key connection stores", async (t) => {
  const server = await fake(t);
  assert.deepEqual(await discordBotIdentity(context(server)), { id: BOT.id, login: BOT.username });
  await assert.rejects(discordBotIdentity(context(server, { token: "bad.token" })), AuthError);
  assert.equal(discord.auth, "api_key");
});
