// google/send_email against the Gmail fake: the RFC 2822 message Gmail receives (decoded from `raw`),
// the deterministic Message-ID and the retry that finds the message instead of sending it twice, params
// refused before any request, and failures classified.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { sha256Hex } from "../../bytes.ts";
import type { ReactionContext } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import {
  type FakeGmail,
  headerOf,
  type ParsedPart,
  parseMessage,
  startFakeGmail,
} from "../../../../../tests/support/fakes/gmail.ts";
import { reactionContext } from "../../../../../tests/support/node_context.ts";
import { sendEmail } from "./send_email.ts";
import { google } from "./service.ts";

const TOKEN = "ya29.valid";
const KEY = "hook-log-1:area-reaction-2";

async function fake(t: TestContext): Promise<FakeGmail> {
  const server = await startFakeGmail({ tokens: [TOKEN] });
  t.after(() => server.close());
  return server;
}

function context(server: FakeGmail, options: { token?: string; idempotencyKey?: string } = {}): ReactionContext {
  return reactionContext(google, {
    credentials: { access_token: options.token ?? TOKEN, token_type: "Bearer" },
    env: { GMAIL_API_URL: server.origin },
    idempotencyKey: options.idempotencyKey ?? KEY,
  });
}

/** The message in the last messages.send request, decoded from its base64url `raw`. */
function sentMessage(server: FakeGmail): ParsedPart {
  const request = server.requests.findLast((entry) => entry.url === "/gmail/v1/users/me/messages/send")!;
  const body = JSON.parse(request.body) as { raw: string };
  assert.deepEqual(Object.keys(body), ["raw"]);
  assert.match(body.raw, /^[A-Za-z0-9_-]+$/, "base64url without padding");
  return parseMessage(Buffer.from(body.raw, "base64url").toString("utf8"));
}

test("sends the message Gmail expects: base64url RFC 2822 with the headers, a derived Message-ID, no From", async (t) => {
  const server = await fake(t);
  const output = await sendEmail.run(context(server), {
    to: "bob@example.com, Carol <carol@example.com>",
    cc: "dave@example.com",
    subject: "Déploiement terminé",
    text: "Build 42 is live.\nSee you.",
  });
  const [sent] = server.sent();
  assert.deepEqual(output, { id: sent.id, thread_id: sent.threadId });

  const request = server.requests.findLast((entry) => entry.url === "/gmail/v1/users/me/messages/send")!;
  assert.equal(request.method, "POST");
  assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
  assert.match(request.headers["content-type"]!, /^application\/json/);

  const message = sentMessage(server);
  assert.equal(headerOf(message, "To"), "bob@example.com, Carol <carol@example.com>");
  assert.equal(headerOf(message, "Cc"), "dave@example.com");
  assert.equal(headerOf(message, "Subject"), "Déploiement terminé");
  assert.equal(headerOf(message, "From"), undefined, "Gmail sends from the connected account");
  assert.equal(headerOf(message, "MIME-Version"), "1.0");
  assert.ok(!Number.isNaN(Date.parse(headerOf(message, "Date")!)));
  assert.equal(headerOf(message, "Message-ID"), `<${(await sha256Hex(KEY)).slice(0, 40)}@area.invalid>`);
  assert.match(headerOf(message, "Content-Type")!, /^text\/plain; charset=utf-8/);
  assert.equal(message.body.replace(/\r\n/g, "\n").trimEnd(), "Build 42 is live.\nSee you.");
  assert.equal(headerOf(sent, "From"), server.address);
});

test("with html, the message is multipart/alternative with the text as the fallback", async (t) => {
  const server = await fake(t);
  await sendEmail.run(context(server), { to: "bob@example.com", subject: "Hi", text: "plain", html: "<p>rich</p>" });
  const message = sentMessage(server);
  assert.match(headerOf(message, "Content-Type")!, /^multipart\/alternative/);
  assert.deepEqual(
    message.parts.map((part) => [headerOf(part, "Content-Type")!.split(";")[0], part.body.trim()]),
    [["text/plain", "plain"], ["text/html", "<p>rich</p>"]],
  );
});

test("a retry finds the message already sent by its Message-ID instead of sending it twice", async (t) => {
  const server = await fake(t);
  const params = { to: "bob@example.com", subject: "Once", text: "only once" };
  const first = await sendEmail.run(context(server), params);
  const again = await sendEmail.run(context(server), params);
  assert.deepEqual(again, first);
  assert.equal(server.sent().length, 1);
  const lookup = server.requests.filter((entry) => entry.url.startsWith("/gmail/v1/users/me/messages?"));
  const q = new URL(lookup[1].url, server.origin).searchParams.get("q");
  assert.equal(q, `rfc822msgid:${(await sha256Hex(KEY)).slice(0, 40)}@area.invalid`);

  // Another (event, reaction) pair is another message.
  const other = await sendEmail.run(context(server, { idempotencyKey: "hook-log-2:area-reaction-2" }), params);
  assert.notEqual(other.id, first.id);
  assert.equal(server.sent().length, 2);
});

test("line breaks in a rendered subject cannot add headers", async (t) => {
  const server = await fake(t);
  await sendEmail.run(context(server), {
    to: "bob@example.com",
    subject: "Alert\r\nBcc: eve@example.com",
    text: "x",
  });
  const message = sentMessage(server);
  assert.equal(headerOf(message, "Bcc"), undefined);
  assert.equal(headerOf(message, "Subject"), "Alert Bcc: eve@example.com");
});

test("bad addresses are refused naming the field, before any request", async (t) => {
  const server = await fake(t);
  for (
    const [params, field] of [
      [{ to: "bob at example.com", subject: "s", text: "t" }, "to"],
      [{ to: " ", subject: "s", text: "t" }, "to"],
      [{ to: "bob@example.com", cc: "carol@", subject: "s", text: "t" }, "cc"],
      [{ to: "bob@example.com", text: "t" }, "subject"],
    ] as const
  ) {
    await assert.rejects(
      sendEmail.run(context(server), params),
      (error) => error instanceof PermanentError && new RegExp(`→ at ${field}`).test(error.message),
      JSON.stringify(params),
    );
  }
  assert.equal(server.requests.length, 0);
});

test("429 is retryable with Retry-After, 401 an AuthError; nothing is sent", async (t) => {
  const server = await fake(t);
  const params = { to: "bob@example.com", subject: "s", text: "t" };
  server.rateLimit({ status: 429, retryAfter: 20 });
  await assert.rejects(
    sendEmail.run(context(server), params),
    (error) => error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 20,
  );
  await assert.rejects(
    sendEmail.run(context(server, { token: "ya29.revoked" }), params),
    (error) => error instanceof AuthError && error.status === 401,
  );
  assert.equal(server.sent().length, 0);
});
