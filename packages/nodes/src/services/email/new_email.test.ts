// email/new_email against a real IMAP server (hoodiecrow-imap on 127.0.0.1): the UID baseline, new
// mail firing once, the SEARCH filter, a UIDVALIDITY change, snippets, and the failure classes.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import type { PollResult } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import type { LogFields, Logger } from "../../log.ts";
import {
  ACCOUNT,
  ALLOWED_LOOPBACK,
  connectionSettings,
  type FakeImap,
  rawMessage,
  startFakeImap,
} from "../../../../../tests/support/fakes/email.ts";
import { pollContext } from "../../../../../tests/support/node_context.ts";
import { newEmail } from "./new_email.ts";
import { email } from "./service.ts";

const polling = newEmail.trigger.polling!;
const UID_VALIDITY = 1700000001;

async function fake(t: TestContext, options: { mailboxes?: string[] } = {}): Promise<FakeImap> {
  const server = await startFakeImap(ACCOUNT, { uidValidity: UID_VALIDITY, ...options });
  t.after(() => server.close());
  return server;
}

/** A logger that keeps what it is told, to assert warnings. */
function recordingLogger(lines: { level: string; msg: string; fields?: LogFields }[]): Logger {
  const write = (level: string) => (msg: string, fields?: LogFields) => void lines.push({ level, msg, fields });
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: () => recordingLogger(lines),
  };
}

function poller(
  server: FakeImap,
  options: { settings?: Record<string, unknown>; env?: Record<string, string>; log?: Logger } = {},
) {
  const ctx = pollContext(email, {
    credentials: connectionSettings({ imap: server.port }, options.settings),
    env: options.env ?? ALLOWED_LOOPBACK,
  });
  if (options.log) ctx.log = options.log;
  return (cursor: unknown, params: Record<string, unknown> = {}): Promise<PollResult> =>
    polling.poll(ctx, newEmail.params.parse(params), cursor);
}

function mail(subject: string, options: { from?: string; body?: string; id?: string } = {}): string {
  return rawMessage({
    From: options.from ?? "Bob Builder <bob@example.org>",
    To: "ada@example.com",
    Subject: subject,
    "Message-ID": options.id ?? `<${subject.replace(/\W+/g, "-")}@example.org>`,
    Date: "Thu, 01 Jan 2026 12:00:00 +0000",
    "Content-Type": "text/plain; charset=utf-8",
  }, options.body ?? `Body of ${subject}`);
}

const subjects = (result: PollResult) => result.events.map((event) => event.outputs.subject);

test("the first poll is the baseline: it remembers UIDNEXT-1 and fires nothing already there", async (t) => {
  const server = await fake(t);
  server.deliver(mail("old 1"));
  server.deliver(mail("old 2"));
  const poll = poller(server);
  const baseline = await poll(undefined);
  assert.deepEqual(baseline, { events: [], cursor: { uidValidity: UID_VALIDITY, lastUid: 2 } });
  assert.deepEqual(await poll(baseline.cursor), { events: [], cursor: baseline.cursor });
});

test("an empty mailbox's baseline is UID 0; its first message then fires", async (t) => {
  const server = await fake(t);
  const poll = poller(server);
  const baseline = await poll(undefined);
  assert.deepEqual(baseline.cursor, { uidValidity: UID_VALIDITY, lastUid: 0 });
  server.deliver(mail("first ever"));
  assert.deepEqual(subjects(await poll(baseline.cursor)), ["first ever"]);
});

test("a new message fires once with its envelope and a snippet; the next poll finds nothing", async (t) => {
  const server = await fake(t);
  server.deliver(mail("old"));
  const poll = poller(server);
  const baseline = await poll(undefined);
  server.deliver(mail("Build #42 passed", { body: "All 318 tests\r\npassed in 4 minutes.\r\n\r\n-- \r\nCI" }));

  const result = await poll(baseline.cursor);
  assert.deepEqual(result.events, [{
    dedupeKey: `${UID_VALIDITY}:2`,
    outputs: {
      uid: 2,
      message_id: "<Build-42-passed@example.org>",
      from: "bob@example.org",
      from_name: "Bob Builder",
      to: "ada@example.com",
      subject: "Build #42 passed",
      date: "2026-01-01T12:00:00.000Z",
      snippet: "All 318 tests passed in 4 minutes. -- CI",
      mailbox: "INBOX",
    },
  }]);
  assert.deepEqual(result.cursor, { uidValidity: UID_VALIDITY, lastUid: 2 });
  assert.deepEqual(await poll(result.cursor), { events: [], cursor: result.cursor });

  // A poll repeated from the old cursor (the cursor was not saved) yields the same dedupe keys: the
  // engine stores each key once per hook, so the message still fires once.
  const repeated = await poll(baseline.cursor);
  assert.deepEqual(repeated.events.map((event) => event.dedupeKey), [`${UID_VALIDITY}:2`]);
});

test("a message deleted before the poll saw it fires nothing, not even the older newest one", async (t) => {
  const server = await fake(t);
  server.deliver(mail("old"));
  const poll = poller(server);
  const baseline = await poll(undefined);
  server.deliver(mail("gone"));
  server.expunge(2);
  // UIDNEXT is 3 but the newest message left is UID 1, which `UID 2:*` still matches (`*` is the
  // highest UID in the mailbox): it must not fire again.
  assert.deepEqual(await poll(baseline.cursor), { events: [], cursor: { uidValidity: UID_VALIDITY, lastUid: 2 } });
});

test("the filter runs as an IMAP SEARCH: from contains, subject contains, unseen only", async (t) => {
  const server = await fake(t);
  const poll = poller(server);
  const baseline = await poll(undefined);
  server.deliver(mail("Invoice 1", { from: "Billing <billing@shop.example>" }));
  server.deliver(mail("Newsletter", { from: "news@shop.example" }));
  server.deliver(mail("Invoice 2", { from: "Billing <billing@shop.example>" }), { flags: ["\\Seen"] });
  server.deliver(mail("Invoice 3", { from: "eve@elsewhere.example" }));

  const fromShop = await poll(baseline.cursor, { from_contains: "shop.example" });
  assert.deepEqual(subjects(fromShop), ["Invoice 1", "Newsletter", "Invoice 2"]);
  const invoices = await poll(baseline.cursor, { subject_contains: "invoice" });
  assert.deepEqual(subjects(invoices), ["Invoice 1", "Invoice 2", "Invoice 3"], "SUBJECT is case-insensitive");
  const unreadBilling = await poll(baseline.cursor, { from_contains: "billing", unseen_only: true });
  assert.deepEqual(subjects(unreadBilling), ["Invoice 1"]);
  assert.deepEqual(unreadBilling.events.map((event) => event.dedupeKey), [`${UID_VALIDITY}:1`]);

  // Non-matching messages are passed over: the cursor moves past them all.
  assert.deepEqual(unreadBilling.cursor, { uidValidity: UID_VALIDITY, lastUid: 4 });
  const nothing = await poll(baseline.cursor, { subject_contains: "refund" });
  assert.deepEqual(nothing, { events: [], cursor: { uidValidity: UID_VALIDITY, lastUid: 4 } });
});

test("a changed UIDVALIDITY re-baselines without firing, with a warning", async (t) => {
  const server = await fake(t);
  server.deliver(mail("old"));
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const poll = poller(server, { log: recordingLogger(lines) });
  const baseline = await poll(undefined);
  server.deliver(mail("during renumbering"));
  server.uidValidity("INBOX", UID_VALIDITY + 1);

  const result = await poll(baseline.cursor);
  assert.deepEqual(result, { events: [], cursor: { uidValidity: UID_VALIDITY + 1, lastUid: 2 } });
  const warning = lines.find((line) => line.level === "warn");
  assert.match(warning?.msg ?? "", /UIDVALIDITY changed/);
  assert.deepEqual(warning?.fields, { mailbox: "INBOX", previous: UID_VALIDITY, current: UID_VALIDITY + 1 });

  server.deliver(mail("after"));
  assert.deepEqual((await poll(result.cursor)).events.map((event) => event.dedupeKey), [`${UID_VALIDITY + 1}:3`]);
});

test("another mailbox can be watched; one that does not exist is a permanent error naming it", async (t) => {
  const server = await fake(t, { mailboxes: ["Alerts"] });
  const poll = poller(server);
  const baseline = await poll(undefined, { mailbox: "Alerts" });
  server.deliver(mail("in inbox"));
  server.deliver(mail("disk full"), { mailbox: "Alerts" });
  const result = await poll(baseline.cursor, { mailbox: "Alerts" });
  assert.deepEqual(subjects(result), ["disk full"]);
  assert.equal(result.events[0].outputs.mailbox, "Alerts");

  await assert.rejects(
    poll(undefined, { mailbox: "Nope" }),
    (error) => error instanceof PermanentError && !(error instanceof AuthError) && /mailbox "Nope"/.test(error.message),
  );
});

test("snippets are decoded text: quoted-printable multipart text, or the text of an HTML-only message", async (t) => {
  const server = await fake(t);
  const poll = poller(server);
  const baseline = await poll(undefined);
  server.deliver(rawMessage(
    {
      From: "bob@example.org",
      Subject: "multipart",
      "MIME-Version": "1.0",
      "Content-Type": 'multipart/alternative; boundary="b1"',
    },
    [
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "Caf=C3=A9 at 10=3D ten",
      "--b1",
      "Content-Type: text/html; charset=utf-8",
      "",
      "<p>ignored</p>",
      "--b1--",
    ].join("\r\n"),
  ));
  server.deliver(rawMessage(
    { From: "bob@example.org", Subject: "html", "Content-Type": "text/html" },
    [
      "<html><head><style>p { color: red }</style></head>",
      "<body><p>Hello &amp; <b>welcome</b></p></body></html>",
    ].join("\r\n"),
  ));
  server.deliver(rawMessage({ From: "bob@example.org", Subject: "long" }, "word ".repeat(100)));

  const result = await poll(baseline.cursor);
  const snippets = result.events.map((event) => event.outputs.snippet as string);
  assert.deepEqual(snippets.slice(0, 2), ["Café at 10= ten", "Hello & welcome"]);
  assert.equal(snippets[2].length, 200);
});

test("a busy mailbox is read 50 messages per poll, the rest at the next poll", async (t) => {
  const server = await fake(t);
  const poll = poller(server);
  const baseline = await poll(undefined);
  for (let i = 1; i <= 53; i++) server.deliver(mail(`bulk ${i}`));
  const first = await poll(baseline.cursor);
  assert.equal(first.events.length, 50);
  assert.deepEqual(first.cursor, { uidValidity: UID_VALIDITY, lastUid: 50 });
  const second = await poll(first.cursor);
  assert.deepEqual(subjects(second), ["bulk 51", "bulk 52", "bulk 53"]);
});

test("a refused login is an AuthError; an unreachable server is retryable", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    poller(server, { settings: { imap_password: "wrong" } })(undefined),
    (error) =>
      error instanceof AuthError &&
      /IMAP server 127\.0\.0\.1 refused the login of ada@example\.com/.test(error.message),
  );
  await assert.rejects(
    poller(server, { settings: { imap_port: 1 } })(undefined),
    (error) => error instanceof RetryableError && /IMAP server 127\.0\.0\.1 failed/.test(error.message),
  );
});

test("a loopback IMAP host is refused before connecting unless AREA_ALLOWED_HOSTS lists it", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    poller(server, { env: {} })(undefined),
    (error) => error instanceof PermanentError && /refused address 127\.0\.0\.1 \(loopback\)/.test(error.message),
  );
});
