// email/send_email against a real SMTP server (smtp-server on 127.0.0.1): what it receives, the
// failure classes of SMTP replies and network failures, the egress rule, and retries' Message-ID.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import {
  ACCOUNT,
  ALLOWED_LOOPBACK,
  connectionSettings,
  type FakeSmtp,
  startFakeSmtp,
} from "../../../../../tests/support/fakes/email.ts";
import { reactionContext } from "../../../../../tests/support/node_context.ts";
import { sendEmail } from "./send_email.ts";
import { email } from "./service.ts";

async function fake(t: TestContext): Promise<FakeSmtp> {
  const server = await startFakeSmtp(ACCOUNT);
  t.after(() => server.close());
  return server;
}

function context(
  server: FakeSmtp,
  options: { settings?: Record<string, unknown>; env?: Record<string, string>; idempotencyKey?: string } = {},
) {
  return reactionContext(email, {
    credentials: connectionSettings({ smtp: server.port }, options.settings),
    env: options.env ?? ALLOWED_LOOPBACK,
    idempotencyKey: options.idempotencyKey,
  });
}

/** A header of a raw message, unfolded (RFC 5322 §2.2.3). */
function header(raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf("\r\n\r\n")).replace(/\r\n[ \t]+/g, " ");
  return new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1];
}

const MESSAGE = { to: "bob@example.org", subject: "Build #42", text: "It passed." };

test("sends from the connection's address after logging in; the server gets the envelope and headers", async (t) => {
  const server = await fake(t);
  const output = await sendEmail.run(context(server), {
    to: "Bob <bob@example.org>, carol@example.org",
    cc: "team@example.org",
    reply_to: "support@example.com",
    subject: "Build #42\r\npassed",
    text: "All tests passed.",
    html: "<p>All tests <b>passed</b>.</p>",
  });

  const [message] = server.messages;
  assert.equal(server.messages.length, 1);
  assert.equal(message.user, ACCOUNT.user);
  assert.deepEqual(message.envelope, {
    from: "ada@example.com",
    to: ["bob@example.org", "carol@example.org", "team@example.org"],
  });
  assert.equal(header(message.raw, "From"), "Ada Lovelace <ada@example.com>");
  assert.equal(header(message.raw, "To"), "Bob <bob@example.org>, carol@example.org");
  assert.equal(header(message.raw, "Cc"), "team@example.org");
  assert.equal(header(message.raw, "Reply-To"), "support@example.com");
  assert.equal(header(message.raw, "Subject"), "Build #42 passed", "a line break cannot inject headers");
  assert.match(header(message.raw, "Content-Type")!, /^multipart\/alternative/);
  assert.match(message.raw, /All tests passed\./);
  assert.match(message.raw, /<p>All tests <b>passed<\/b>\.<\/p>/);

  assert.equal(header(message.raw, "Message-ID"), output.message_id);
  assert.match(output.message_id as string, /^<[0-9a-f]{40}@example\.com>$/);
  assert.deepEqual(output.accepted, ["bob@example.org", "carol@example.org", "team@example.org"]);
  assert.deepEqual(output.rejected, []);
});

test("optional fields left blank (as a form leaves them) are no cc and no Reply-To", async (t) => {
  const server = await fake(t);
  await sendEmail.run(context(server), { ...MESSAGE, cc: " ", reply_to: "" });
  const [message] = server.messages;
  assert.deepEqual(message.envelope.to, ["bob@example.org"]);
  assert.equal(header(message.raw, "Cc"), undefined);
  assert.equal(header(message.raw, "Reply-To"), undefined);
});

test("a retried send has the same Message-ID (mail systems deduplicate by it); another event gets another", async (t) => {
  const server = await fake(t);
  const first = await sendEmail.run(context(server, { idempotencyKey: "log-1:reaction-1" }), MESSAGE);
  const retry = await sendEmail.run(context(server, { idempotencyKey: "log-1:reaction-1" }), MESSAGE);
  const other = await sendEmail.run(context(server, { idempotencyKey: "log-2:reaction-1" }), MESSAGE);
  assert.equal(retry.message_id, first.message_id);
  assert.notEqual(other.message_id, first.message_id);
  assert.deepEqual(server.messages.map((message) => header(message.raw, "Message-ID")), [
    first.message_id,
    first.message_id,
    other.message_id,
  ]);
});

test("a refused login (535) is an AuthError: the connection needs new credentials", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    sendEmail.run(context(server, { settings: { smtp_password: "wrong" } }), MESSAGE),
    (error) =>
      error instanceof AuthError && error.status === 535 && /refused the login of ada@example\.com/.test(error.message),
  );
  assert.equal(server.messages.length, 0);
});

test("a recipient refused for good (550) among others is reported; every recipient refused is permanent", async (t) => {
  const server = await fake(t);
  server.refuseRecipient("ghost@example.org", 550, "5.1.1 No such user");
  const partial = await sendEmail.run(context(server), { ...MESSAGE, to: "bob@example.org, ghost@example.org" });
  assert.deepEqual(partial.accepted, ["bob@example.org"]);
  assert.deepEqual(partial.rejected, ["ghost@example.org"]);
  assert.deepEqual(server.messages[0].envelope.to, ["bob@example.org"]);

  await assert.rejects(
    sendEmail.run(context(server), { ...MESSAGE, to: "ghost@example.org" }),
    (error) =>
      error instanceof PermanentError && !(error instanceof AuthError) && error.status === 550 &&
      /rejected every recipient: ghost@example\.org \(550 5\.1\.1 No such user\)/.test(error.message),
  );
  assert.equal(server.messages.length, 1);
});

test("temporary SMTP replies are retryable: 450 for the recipient, 451 after DATA, 421 at connect", async (t) => {
  const server = await fake(t);
  server.refuseRecipient("busy@example.org", 450, "4.2.1 Mailbox busy");
  await assert.rejects(
    sendEmail.run(context(server), { ...MESSAGE, to: "busy@example.org" }),
    (error) => error instanceof RetryableError && /busy@example\.org \(450 4\.2\.1 Mailbox busy\)/.test(error.message),
  );

  server.refuseData(451, "4.3.0 Local error in processing");
  await assert.rejects(
    sendEmail.run(context(server), MESSAGE),
    (error) => error instanceof RetryableError && error.status === 451 && /4\.3\.0 Local error/.test(error.message),
  );

  server.refuseConnections(421, "Service not available, closing transmission channel");
  await assert.rejects(
    sendEmail.run(context(server), MESSAGE),
    (error) => error instanceof RetryableError && error.status === 421,
  );
  assert.equal(server.messages.length, 0);
});

test("a server that cannot be reached is retryable", async (t) => {
  const server = await fake(t);
  await server.close();
  await assert.rejects(
    sendEmail.run(context(server), MESSAGE),
    (error) => error instanceof RetryableError && /SMTP server 127\.0\.0\.1 failed/.test(error.message),
  );
});

test("starttls is required when configured: no login in clear text to a server that does not offer it", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    sendEmail.run(context(server, { settings: { smtp_security: "starttls" } }), MESSAGE),
    (error) => error instanceof PermanentError && /TLS/.test(error.message),
  );
  assert.equal(server.messages.length, 0);
});

test("loopback and private SMTP hosts are refused before connecting unless AREA_ALLOWED_HOSTS lists them", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    sendEmail.run(context(server, { env: {} }), MESSAGE),
    (error) =>
      error instanceof PermanentError &&
      /refused address 127\.0\.0\.1 \(loopback\); add the host to AREA_ALLOWED_HOSTS/.test(error.message),
  );
  await assert.rejects(
    sendEmail.run(context(server, { settings: { smtp_host: "localhost" } }), MESSAGE),
    (error) => error instanceof PermanentError && /refused host localhost \(loopback\)/.test(error.message),
  );
  await assert.rejects(
    sendEmail.run(context(server, { settings: { smtp_host: "169.254.169.254" } }), MESSAGE),
    (error) => error instanceof PermanentError && /cloud metadata/.test(error.message),
  );
  assert.equal(server.connections, 0);
});

test("params that cannot be right fail permanently, naming the field, before connecting", async (t) => {
  const server = await fake(t);
  // zod's words: the rule, then `→ at <field>`.
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ ...MESSAGE, to: "bob" }, "to", /"bob" is not an email address/],
    [{ ...MESSAGE, to: "" }, "to", />=1 characters/],
    [{ ...MESSAGE, to: " , ," }, "to", /needs at least one address/],
    [{ ...MESSAGE, cc: "a@example.org, not an address" }, "cc", /"not an address" is not an email address/],
    [{ ...MESSAGE, reply_to: "nobody" }, "reply_to", /must be an email address/],
    [{ ...MESSAGE, text: "" }, "text", />=1 characters/],
    [{ to: MESSAGE.to, text: "x" }, "subject", /expected string/],
    [
      { ...MESSAGE, to: Array.from({ length: 51 }, (_, i) => `r${i}@example.org`).join(",") },
      "to",
      /at most 50 recipients/,
    ],
  ];
  for (const [params, field, rule] of cases) {
    await assert.rejects(
      sendEmail.run(context(server), params),
      (error) =>
        error instanceof PermanentError && !(error instanceof AuthError) && rule.test(error.message) &&
        error.message.includes(`at ${field}`),
      JSON.stringify(params).slice(0, 80),
    );
  }
  assert.equal(server.connections, 0);
});

test("a connection without complete settings is an AuthError (reconnect), before connecting", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    sendEmail.run(context(server, { settings: { smtp_password: undefined } }), MESSAGE),
    (error) => error instanceof AuthError && /settings are incomplete.*smtp_password/s.test(error.message),
  );
  assert.equal(server.connections, 0);
});
