// discord_webhook/send_webhook_message against the fake Discord API, through the context the worker
// builds for a service without auth (a 401 is then a plain refusal, never "reconnect").
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { fieldRows } from "../../catalogue.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { type FakeDiscord, type FakeWebhook, startFakeDiscord } from "../../../../../tests/support/fakes/discord.ts";
import { reactionContext } from "../../../../../tests/support/node_context.ts";
import { discordWebhook } from "./service.ts";
import { sendWebhookMessage, webhookTarget } from "./send_webhook_message.ts";

const CHANNEL = "1100000000000000001";
const THREAD = "1100000000000000003";

async function fake(t: TestContext): Promise<{ server: FakeDiscord; hook: FakeWebhook }> {
  const server = await startFakeDiscord({ bots: {}, channels: [CHANNEL, THREAD] });
  t.after(() => server.close());
  return { server, hook: server.createWebhook(CHANNEL) };
}

const context = (server: FakeDiscord) => reactionContext(discordWebhook, { env: { DISCORD_API_URL: server.apiUrl } });

test("executes the webhook with wait=true and returns the message Discord created", async (t) => {
  const { server, hook } = await fake(t);
  const embeds = [{ title: "Release 2.0", url: "https://example.org/2.0", color: 5814783 }];
  const output = await sendWebhookMessage.run(context(server), {
    webhook_url: hook.url,
    content: "New release",
    username: "Releases",
    avatar_url: "https://example.org/avatar.png",
    embeds,
  });

  const [message] = server.messages(CHANNEL);
  assert.deepEqual(output, { id: message.id, channel_id: CHANNEL });
  assert.equal(message.webhook_id, hook.id);
  assert.equal(message.author.username, "Releases");
  assert.deepEqual(message.embeds, embeds);

  const [request] = server.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.url, `/api/v10/webhooks/${hook.id}/${hook.token}?wait=true`);
  assert.equal(request.headers.authorization, undefined, "the URL's token is the credential, no bot token");
  assert.match(request.headers["user-agent"]!, /^DiscordBot \(/);
  assert.equal(request.headers["idempotency-key"], undefined, "no nonce here: a POST is not retried within the call");
  assert.deepEqual(JSON.parse(request.body), {
    content: "New release",
    embeds,
    allowed_mentions: { parse: ["users", "roles"] },
    username: "Releases",
    avatar_url: "https://example.org/avatar.png",
  });
});

test("posts in a thread given as a param or in the URL's thread_id", async (t) => {
  const { server, hook } = await fake(t);
  await sendWebhookMessage.run(context(server), { webhook_url: hook.url, content: "a", thread_id: THREAD });
  await sendWebhookMessage.run(context(server), { webhook_url: `${hook.url}?thread_id=${THREAD}`, content: "b" });
  assert.deepEqual(server.messages(THREAD).map((message) => message.content), ["a", "b"]);
  assert.equal(new URL(server.requests[1].url, "http://x").searchParams.get("thread_id"), THREAD);
});

test("only Discord's webhook URLs (or the configured API host's) are accepted; calls go to DISCORD_API_URL", async (t) => {
  const { server, hook } = await fake(t);
  const env = { DISCORD_API_URL: server.apiUrl };
  for (
    const url of [
      "https://discord.com/api/webhooks/123/abc-DEF_1",
      "https://discordapp.com/api/webhooks/123/abc",
      "https://canary.discord.com/api/v10/webhooks/123/abc/",
      "https://ptb.discord.com/api/v9/webhooks/123/abc?thread_id=9",
    ]
  ) {
    assert.equal(webhookTarget(url, env).id, "123", url);
  }
  assert.deepEqual(webhookTarget("https://discord.com/api/webhooks/1/t", {}), {
    id: "1",
    token: "t",
    threadId: undefined,
  });

  // A real Discord URL is sent where DISCORD_API_URL points (the fake here), with its id and token.
  const realLooking = `https://discord.com/api/webhooks/${hook.id}/${hook.token}`;
  await sendWebhookMessage.run(context(server), { webhook_url: realLooking, content: "via the configured API" });
  assert.equal(server.messages(CHANNEL).length, 1);

  server.requests.length = 0;
  const refused = [
    "https://example.org/api/webhooks/123/abc",
    "https://discord.com.evil.example/api/webhooks/123/abc",
    "http://discord.com/api/webhooks/123/abc",
    "https://discord.com:8443/api/webhooks/123/abc",
    "https://discord.com/api/channels/123/messages",
    "https://discord.com/api/webhooks/abc/123",
    `${server.origin.replace(/:\d+$/, ":1")}/api/webhooks/${hook.id}/${hook.token}`,
  ];
  for (const url of refused) {
    await assert.rejects(
      sendWebhookMessage.run(context(server), { webhook_url: url, content: "x" }),
      (error) => error instanceof PermanentError && /not a Discord webhook URL|webhook_url/.test(error.message),
      url,
    );
  }
  // The token never shows in the message of a refusal.
  await assert.rejects(
    sendWebhookMessage.run(context(server), {
      webhook_url: "https://example.org/api/webhooks/1/SECRET-TOKEN",
      content: "x",
    }),
    (error) => error instanceof Error && !error.message.includes("SECRET-TOKEN"),
  );
  assert.equal(server.requests.length, 0);
});

test("the webhook URL is a secret param checked by shape in the catalogue", () => {
  const [url] = fieldRows(sendWebhookMessage.params);
  assert.deepEqual([url.name, url.type, url.required], ["webhook_url", "secret", true]);
  const pattern = new RegExp(url.validation_regex!);
  assert.ok(pattern.test("https://discord.com/api/webhooks/123456789012345678/abc_DEF-ghi"));
  assert.ok(pattern.test("http://127.0.0.1:4000/api/v10/webhooks/1/t?thread_id=2"));
  assert.ok(!pattern.test("https://discord.com/api/webhooks/123"));
  assert.ok(!pattern.test("discord.com/api/webhooks/1/t"));
  assert.equal(discordWebhook.auth, "none");
});

test("a deleted webhook or a wrong token is permanent, never AuthError, and the token is redacted", async (t) => {
  const { server, hook } = await fake(t);
  await assert.rejects(
    sendWebhookMessage.run(context(server), { webhook_url: hook.url.replace(hook.token, "wrong-token"), content: "x" }),
    (error) =>
      error instanceof PermanentError && !(error instanceof AuthError) && error.status === 401 &&
      /Invalid Webhook Token \(50027\)/.test(error.message) && !error.message.includes("wrong-token"),
  );
  await assert.rejects(
    sendWebhookMessage.run(context(server), {
      webhook_url: hook.url.replace(hook.id, "1100000000000000999"),
      content: "x",
    }),
    (error) =>
      error instanceof PermanentError && error.status === 404 && /Unknown Webhook \(10015\)/.test(error.message) &&
      !error.message.includes(hook.token),
  );
});

test("Discord's 400 Invalid Form Body is permanent; 429 is retryable with its wait; tokens stay out", async (t) => {
  const { server, hook } = await fake(t);
  await assert.rejects(
    sendWebhookMessage.run(context(server), { webhook_url: hook.url, embeds: [{ title: "t".repeat(300) }] }),
    (error) =>
      error instanceof PermanentError && error.status === 400 &&
      /Invalid Form Body \(50035\): embeds\.0\.title/.test(error.message) && !error.message.includes(hook.token),
  );
  server.rateLimit({ retryAfter: 1336.57 });
  await assert.rejects(
    sendWebhookMessage.run(context(server), { webhook_url: hook.url, content: "x" }),
    (error) =>
      error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 1337 &&
      !error.message.includes(hook.token),
  );
  await assert.rejects(
    sendWebhookMessage.run(context(server), { webhook_url: hook.url }),
    (error) => error instanceof PermanentError && /some content or at least one embed/.test(error.message),
  );
  await assert.rejects(
    sendWebhookMessage.run(context(server), { webhook_url: hook.url, content: "x", username: "u".repeat(81) }),
    (error) => error instanceof PermanentError && /username/.test(error.message),
  );
  assert.equal(server.messages(CHANNEL).length, 0);
});
