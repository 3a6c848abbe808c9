// slack/post_message against the fake Slack Web API, through the context the worker builds.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { type FakeSlack, startFakeSlack } from "../../../../../tests/support/fakes/slack.ts";
import { reactionContext } from "../../../../../tests/support/node_context.ts";
import { slackError } from "./api.ts";
import { MAX_TEXT_LENGTH, postMessage } from "./post_message.ts";
import { slack } from "./service.ts";

const TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy";
const INSTALLATION = {
  team: { id: "T9TK3CUKW", name: "Slack Softball Team", domain: "softball" },
  botUserId: "U0KRQLJ9H",
  botId: "B0KRQLJ9H",
  botName: "area",
};
const GENERAL = { id: "C1H9RESGL", name: "general", botIsMember: true };

async function fake(t: TestContext): Promise<FakeSlack> {
  const server = await startFakeSlack({
    bots: { [TOKEN]: INSTALLATION },
    channels: [
      GENERAL,
      { id: "C2ABCDEFG", name: "random", botIsMember: false },
      { id: "C3ABCDEFG", name: "old", botIsMember: true, archived: true },
    ],
  });
  t.after(() => server.close());
  return server;
}

const context = (server: FakeSlack, credentials: Record<string, unknown> | null = { access_token: TOKEN }) =>
  reactionContext(slack, { credentials, env: { SLACK_API_URL: server.apiUrl } });

test("posts with chat.postMessage as Slack receives it: JSON with its charset, the bot token as bearer", async (t) => {
  const server = await fake(t);
  const output = await postMessage.run(context(server), { channel: GENERAL.id, text: "Deploy *finished*" });

  const [message] = server.messages(GENERAL.id);
  assert.deepEqual(output, { channel: GENERAL.id, ts: message.ts });
  assert.equal(message.text, "Deploy *finished*");
  assert.equal(message.bot_id, INSTALLATION.botId);

  const [request] = server.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.url, "/api/chat.postMessage");
  assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(request.headers["content-type"], "application/json; charset=utf-8");
  assert.deepEqual(JSON.parse(request.body), { channel: GENERAL.id, text: "Deploy *finished*" });
  assert.equal(request.headers["idempotency-key"], undefined, "Slack has no idempotency key to honour");
});

test("a thread reply carries thread_ts; an empty thread_ts (a rendered {{thread_ts}}) posts to the channel", async (t) => {
  const server = await fake(t);
  await postMessage.run(context(server), { channel: "#general", text: "in thread", thread_ts: "1355517523.000005" });
  await postMessage.run(context(server), { channel: "general", text: "top level", thread_ts: "" });
  const [reply, top] = server.messages(GENERAL.id);
  assert.equal(reply.thread_ts, "1355517523.000005");
  assert.equal(top.thread_ts, undefined);
  assert.equal("thread_ts" in JSON.parse(server.requests[1].body), false);
});

test("params that cannot be right fail permanently, naming the field, before any request", async (t) => {
  const server = await fake(t);
  // parseParams words each problem as "✖ <rule>\n  → at <field>".
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ channel: GENERAL.id }, "text", /expected string/],
    [{ channel: GENERAL.id, text: "" }, "text", />=1 characters/],
    [{ channel: GENERAL.id, text: "x".repeat(MAX_TEXT_LENGTH + 1) }, "text", /<=40000 characters/],
    [{ channel: "General Chat", text: "x" }, "channel", /must be a channel id \(C0123ABCDEF\) or a channel name/],
    [{ channel: GENERAL.id, text: "x", thread_ts: "yesterday" }, "thread_ts", /must be a message's ts/],
  ];
  for (const [params, field, rule] of cases) {
    await assert.rejects(
      postMessage.run(context(server), params),
      (error) =>
        error instanceof PermanentError && !(error instanceof AuthError) && rule.test(error.message) &&
        error.message.includes(`at ${field}`),
      JSON.stringify(params).slice(0, 80),
    );
  }
  assert.equal(server.requests.length, 0);
});

test("channel_not_found, not_in_channel and is_archived (HTTP 200, ok: false) are permanent, in Slack's words", async (t) => {
  const server = await fake(t);
  for (
    const [channel, code] of [["C9NOSUCHCH", "channel_not_found"], ["random", "not_in_channel"], ["old", "is_archived"]]
  ) {
    await assert.rejects(
      postMessage.run(context(server), { channel, text: "x" }),
      (error) =>
        error instanceof PermanentError && !(error instanceof AuthError) &&
        error.message === `Slack chat.postMessage failed: ${code}`,
      code,
    );
  }
  assert.equal(server.requests.length, 3);
});

test("an unknown, revoked or missing token is an AuthError: the connection needs reconnecting", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    postMessage.run(context(server, { access_token: "xoxb-unknown" }), { channel: GENERAL.id, text: "x" }),
    (error) => error instanceof AuthError && /invalid_auth/.test(error.message),
  );
  server.revoke(TOKEN);
  await assert.rejects(
    postMessage.run(context(server), { channel: GENERAL.id, text: "x" }),
    (error) => error instanceof AuthError && /token_revoked/.test(error.message),
  );
  await assert.rejects(
    postMessage.run(context(server, {}), { channel: GENERAL.id, text: "x" }),
    (error) => error instanceof AuthError && /holds no access token/.test(error.message),
  );
  assert.equal(server.requests.length, 2, "no request without a token");
  assert.equal(server.messages(GENERAL.id).length, 0);
});

test("HTTP 429 is retryable after Retry-After, and not retried within the call", async (t) => {
  const server = await fake(t);
  server.rateLimit({ retryAfter: 30 });
  await assert.rejects(
    postMessage.run(context(server), { channel: GENERAL.id, text: "x" }),
    (error) =>
      error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 30 &&
      /ratelimited/.test(error.message),
  );
  assert.equal(server.requests.length, 1);
  assert.equal(server.messages(GENERAL.id).length, 0);
  // The limit over, the same call goes through.
  await postMessage.run(context(server), { channel: GENERAL.id, text: "x" });
  assert.equal(server.messages(GENERAL.id).length, 1);
});

test("Slack's transient errors with HTTP 200 are retryable", async (t) => {
  const server = await fake(t);
  for (const code of ["internal_error", "ratelimited", "service_unavailable"]) {
    server.failWith(code);
    await assert.rejects(
      postMessage.run(context(server), { channel: GENERAL.id, text: "x" }),
      (error) => error instanceof RetryableError && error.message === `Slack chat.postMessage failed: ${code}`,
      code,
    );
  }
});

test("error classification: auth codes, transient codes, and everything else permanent", () => {
  for (const code of ["not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired"]) {
    assert.ok(slackError("chat.postMessage", { error: code }) instanceof AuthError, code);
  }
  const scope = slackError("chat.postMessage", { error: "missing_scope", needed: "chat:write" });
  assert.ok(scope instanceof AuthError);
  assert.match(scope.message, /missing_scope \(needs the chat:write scope: reconnect Slack\)/);
  const limited = slackError("chat.postMessage", { error: "ratelimited" }, new Headers({ "retry-after": "7" }));
  assert.ok(limited instanceof RetryableError && limited.retryAfterSeconds === 7);
  for (const code of ["msg_too_long", "channel_not_found", "not_in_channel", "no_text", "restricted_action"]) {
    const error = slackError("chat.postMessage", { error: code });
    assert.ok(error instanceof PermanentError && !(error instanceof AuthError), code);
  }
  assert.match(slackError("chat.postMessage", {}).message, /unknown_error/);
});
