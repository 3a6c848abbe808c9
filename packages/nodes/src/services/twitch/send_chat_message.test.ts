// twitch/send_chat_message against the fake Twitch, through the context the worker builds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { sendChatMessage } from "./send_chat_message.ts";
import { fakeTwitch, OTHER, reacting, STREAMER, TOKEN, UNSCOPED_TOKEN } from "./test_support.ts";

test("writes in the connected account's own chat as that account", async (t) => {
  const server = await fakeTwitch(t);
  const output = await sendChatMessage.run(reacting(server), { message: "We are live!" });
  assert.deepEqual(server.chat, [
    { message_id: output.message_id, broadcaster_id: STREAMER.id, sender_id: STREAMER.id, message: "We are live!" },
  ]);
  assert.deepEqual(output, { message_id: server.chat[0].message_id, is_sent: true });

  const [me, send] = server.requests;
  assert.equal(server.requests.length, 2);
  assert.equal(me.url, "/helix/users");
  assert.equal(send.method, "POST");
  assert.equal(send.url, "/helix/chat/messages");
  assert.equal(send.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(send.headers["client-id"], server.env.TWITCH_CLIENT_ID);
  assert.match(send.headers["content-type"]!, /^application\/json/);
  assert.deepEqual(JSON.parse(send.body), {
    broadcaster_id: STREAMER.id,
    sender_id: STREAMER.id,
    message: "We are live!",
  });
  // Twitch cannot deduplicate a chat message: no key is sent, so the node fetch never resends the POST.
  assert.equal(send.headers["idempotency-key"], undefined);
});

test("writes in another channel's chat, named by login", async (t) => {
  const server = await fakeTwitch(t);
  await sendChatMessage.run(reacting(server), { broadcaster: "Other_One", message: "gg" });
  assert.deepEqual(server.requests.map((request) => request.url), [
    "/helix/users",
    "/helix/users?login=other_one",
    "/helix/chat/messages",
  ]);
  assert.deepEqual(server.chat.map((sent) => [sent.broadcaster_id, sent.sender_id]), [[OTHER.id, STREAMER.id]]);
});

test("a message Twitch drops (is_sent false) is a permanent failure with its reason", async (t) => {
  const server = await fakeTwitch(t);
  server.dropChat(OTHER.id, { code: "msg_rejected", message: "Your message is being checked by mods" });
  await assert.rejects(
    sendChatMessage.run(reacting(server), { broadcaster: OTHER.login, message: "hello" }),
    (error) =>
      error instanceof PermanentError && !(error instanceof AuthError) &&
      error.message === "Twitch dropped the chat message in other_one: Your message is being checked by mods " +
          "(msg_rejected)",
  );
  assert.equal(server.chat.length, 0);
});

test("params that cannot be right fail permanently, naming the field, before any request", async (t) => {
  const server = await fakeTwitch(t);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /message/],
    [{ message: "   " }, /message/],
    [{ message: "x".repeat(501) }, /message/],
    [{ broadcaster: "not a login", message: "x" }, /broadcaster/],
  ];
  for (const [params, pattern] of cases) {
    await assert.rejects(
      sendChatMessage.run(reacting(server), params),
      (error) => error instanceof PermanentError && pattern.test(error.message),
      JSON.stringify(params).slice(0, 60),
    );
  }
  assert.equal(server.requests.length, 0);
  await assert.rejects(
    sendChatMessage.run(reacting(server), { broadcaster: "nobody_here", message: "x" }),
    (error) =>
      error instanceof PermanentError && /broadcaster: Twitch has no user named "nobody_here"/.test(error.message),
  );
});

test("a refused token or a missing scope is an AuthError; 429 waits until Ratelimit-Reset", async (t) => {
  const server = await fakeTwitch(t);
  await assert.rejects(
    sendChatMessage.run(reacting(server, { token: "revoked-token" }), { message: "x" }),
    (error) => error instanceof AuthError && error.status === 401 && /Invalid OAuth token/.test(error.message),
  );
  await assert.rejects(
    sendChatMessage.run(reacting(server, { token: UNSCOPED_TOKEN }), { message: "x" }),
    (error) => error instanceof AuthError && /user:write:chat/.test(error.message),
  );
  server.rateLimit({ resetInSeconds: 20, count: 1 });
  await assert.rejects(
    sendChatMessage.run(reacting(server), { message: "x" }),
    (error) =>
      error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds !== undefined &&
      error.retryAfterSeconds >= 19 && error.retryAfterSeconds <= 21,
  );
  assert.equal(server.chat.length, 0);

  // A 5xx may come after Twitch posted: retryable by the engine, never resent within the call.
  server.unavailable("/helix/chat/messages");
  server.requests.length = 0;
  await assert.rejects(
    sendChatMessage.run(reacting(server), { message: "x" }),
    (error) =>
      error instanceof RetryableError && error.status === 503 &&
      /Service Unavailable: Service Unavailable/.test(error.message),
  );
  assert.deepEqual(server.requests.map((request) => request.url), ["/helix/users", "/helix/chat/messages"]);

  const empty = { ...reacting(server), credentials: {} };
  await assert.rejects(sendChatMessage.run(empty, { message: "x" }), (error) => error instanceof AuthError);
});
