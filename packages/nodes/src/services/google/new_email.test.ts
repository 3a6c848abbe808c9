// google/new_email against the Gmail fake: the baseline, new mail once, dedupe keys, history pagination
// and the per-poll cap, the query and label filters, the 404 re-baseline, and failures classified,
// through the context the worker builds for an oauth2 service.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import type { PollResult } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { type FakeGmail, type FakeGmailOptions, startFakeGmail } from "../../../../../tests/support/fakes/gmail.ts";
import { pollContext } from "../../../../../tests/support/node_context.ts";
import { newEmail } from "./new_email.ts";
import { google } from "./service.ts";

const TOKEN = "ya29.valid";
const polling = newEmail.trigger.polling!;

async function fake(t: TestContext, options: FakeGmailOptions = {}): Promise<FakeGmail> {
  const server = await startFakeGmail({ tokens: [TOKEN], tokensWithoutGmailScope: ["ya29.no-gmail"], ...options });
  t.after(() => server.close());
  return server;
}

/** Polls as the worker does: the params parsed, the connection's token as credentials. */
const poller = (server: FakeGmail, params: Record<string, unknown> = {}, token = TOKEN) => (cursor: unknown) =>
  polling.poll(
    pollContext(google, {
      credentials: { access_token: token, token_type: "Bearer" },
      env: { GMAIL_API_URL: server.origin },
    }),
    params,
    cursor,
  );

const ids = (result: PollResult) => result.events.map((event) => event.dedupeKey);
const paths = (server: FakeGmail, from = 0) =>
  server.requests.slice(from).map((request) => `${request.method} ${new URL(request.url, server.origin).pathname}`);

test("the baseline fires nothing; a new email fires once with its outputs; a re-poll is empty", async (t) => {
  const server = await fake(t);
  server.deliver({ subject: "Before enabling" });
  const poll = poller(server);

  const baseline = await poll(undefined);
  assert.deepEqual(baseline, { events: [], cursor: { history_id: server.historyId() } });
  assert.deepEqual(paths(server), ["GET /gmail/v1/users/me/profile"]);
  assert.equal(server.requests[0].headers.authorization, `Bearer ${TOKEN}`);

  const mail = server.deliver({
    from: "Billing <billing@example.com>",
    subject: "Invoice #42",
    text: "It's attached & due <soon>",
    date: "Thu, 01 Jan 2026 12:00:00 +0100",
  });
  const first = await poll(baseline.cursor);
  assert.deepEqual(first.events, [{
    dedupeKey: mail.id,
    outputs: {
      id: mail.id,
      thread_id: mail.threadId,
      from: "Billing <billing@example.com>",
      to: server.address,
      subject: "Invoice #42",
      snippet: "It's attached & due <soon>", // Gmail sends it HTML-escaped
      date: "2026-01-01T11:00:00.000Z",
      label_ids: ["INBOX", "UNREAD"],
    },
  }]);
  assert.deepEqual(first.cursor, { history_id: server.historyId() });
  assert.deepEqual(newEmail.outputs.parse(first.events[0].outputs), first.events[0].outputs);
  assert.deepEqual(newEmail.outputs.parse(newEmail.sample), newEmail.sample, "the sample has the outputs' shape");

  const history = server.requests.find((request) => request.url.startsWith("/gmail/v1/users/me/history"))!;
  const query = new URL(history.url, server.origin).searchParams;
  assert.equal(query.get("startHistoryId"), (baseline.cursor as { history_id: string }).history_id);
  assert.equal(query.get("historyTypes"), "messageAdded");
  const get = server.requests.find((request) => request.url.startsWith(`/gmail/v1/users/me/messages/${mail.id}`))!;
  const getQuery = new URL(get.url, server.origin).searchParams;
  assert.equal(getQuery.get("format"), "metadata");
  assert.deepEqual(getQuery.getAll("metadataHeaders"), ["From", "To", "Subject", "Date"]);

  // Nothing new since: no event, the cursor stays where it was.
  assert.deepEqual(await poll(first.cursor), { events: [], cursor: first.cursor });
  // The same point polled again (a retried job) yields the same dedupe key, which the engine drops.
  assert.deepEqual(ids(await poll(baseline.cursor)), [mail.id]);
});

test("history pages are followed with pageToken; events come oldest first", async (t) => {
  const server = await fake(t, { maxPageSize: 2 });
  const poll = poller(server);
  const baseline = await poll(undefined);
  const start = Date.now() - 60_000;
  const mails = [0, 1, 2, 3, 4].map((n) =>
    server.deliver({ subject: `n${n}`, receivedAt: new Date(start + n * 1000) })
  );

  const before = server.requests.length;
  const result = await poll(baseline.cursor);
  assert.deepEqual(ids(result), mails.map((mail) => mail.id));
  const historyCalls = server.requests.slice(before).filter((request) => request.url.includes("/history"));
  assert.equal(historyCalls.length, 3);
  const tokens = historyCalls.map((request) => new URL(request.url, server.origin).searchParams.get("pageToken"));
  assert.equal(tokens[0], null);
  assert.ok(tokens[1] && tokens[2] && tokens[1] !== tokens[2]);
  assert.deepEqual(result.cursor, { history_id: server.historyId() });
});

test("a busy mailbox is read 100 messages a poll; the next poll continues where it stopped", async (t) => {
  const server = await fake(t, { maxPageSize: 50 });
  const poll = poller(server);
  const baseline = await poll(undefined);
  const mails = Array.from({ length: 120 }, (_, n) => server.deliver({ subject: `n${n}` }));

  const first = await poll(baseline.cursor);
  assert.equal(first.events.length, 100);
  assert.notEqual((first.cursor as { history_id: string }).history_id, server.historyId());
  const second = await poll(first.cursor);
  assert.deepEqual([...ids(first), ...ids(second)].sort(), mails.map((mail) => mail.id).sort());
  assert.deepEqual(second.cursor, { history_id: server.historyId() });
});

test("drafts, your own sent mail, spam and trash do not fire unless the label names them", async (t) => {
  const server = await fake(t);
  const everything = poller(server);
  const sentOnly = poller(server, { label: "SENT" });
  const baseline = await everything(undefined);
  const inbox = server.deliver({ subject: "real" });
  for (const labelIds of [["DRAFT"], ["SENT"], ["SENT", "INBOX"], ["SPAM"], ["TRASH"]]) server.deliver({ labelIds });

  assert.deepEqual(ids(await everything(baseline.cursor)), [inbox.id]);
  const sent = await sentOnly(baseline.cursor);
  assert.equal(sent.events.length, 2);
  assert.ok(sent.events.every((event) => (event.outputs.label_ids as string[]).includes("SENT")));
});

test("a label filters by name or id through history's labelId; an unknown label is a PermanentError", async (t) => {
  const server = await fake(t);
  const receipts = server.createLabel("Receipts");
  const poll = poller(server, { label: "receipts" });
  const baseline = await poll(undefined);
  const labelled = server.deliver({ labelIds: ["INBOX", receipts.id] });
  server.deliver({ labelIds: ["INBOX"] });

  const before = server.requests.length;
  assert.deepEqual(ids(await poll(baseline.cursor)), [labelled.id]);
  const history = server.requests.slice(before).find((request) => request.url.includes("/history"))!;
  assert.equal(new URL(history.url, server.origin).searchParams.get("labelId"), receipts.id);
  assert.deepEqual(ids(await poller(server, { label: receipts.id })(baseline.cursor)), [labelled.id]);

  await assert.rejects(
    poller(server, { label: "Invoices" })(baseline.cursor),
    (error) => error instanceof PermanentError && /label: .*"Invoices"/.test(error.message),
  );
  // Checked at the baseline too, so a wrong label shows when the AREA is enabled.
  await assert.rejects(poller(server, { label: "Invoices" })(undefined), PermanentError);
});

test("a query keeps only new mail matching Gmail's search, bounded to the new mail's time", async (t) => {
  const server = await fake(t);
  const poll = poller(server, { query: "from:billing@example.com" });
  const baseline = await poll(undefined);
  const old = server.deliver({ from: "billing@example.com", receivedAt: new Date(Date.now() - 86_400_000) });
  const invoice = server.deliver({ from: "Billing <billing@example.com>", subject: "Invoice" });
  server.deliver({ from: "Bob <bob@example.com>", subject: "Lunch?" });

  const before = server.requests.length;
  const result = await poll(baseline.cursor);
  // The old message arrived after the baseline too, so it is new: it matches and fires.
  assert.deepEqual(ids(result), [old.id, invoice.id]);
  const search = server.requests.slice(before).find((request) =>
    new URL(request.url, server.origin).pathname ===
      "/gmail/v1/users/me/messages"
  )!;
  const q = new URL(search.url, server.origin).searchParams.get("q")!;
  const [, query, after] = /^\((.*)\) after:(\d+)$/.exec(q)!;
  assert.equal(query, "from:billing@example.com");
  assert.ok(Number(after) <= old.internalDate / 1000 && Number(after) > old.internalDate / 1000 - 86_400);

  // Blank params are no filter.
  const blank = poller(server, { query: " ", label: "" });
  const mail = server.deliver({ from: "carol@example.com" });
  assert.deepEqual(ids(await blank(result.cursor)), [mail.id]);
});

test("a message deleted before it was read is skipped", async (t) => {
  const server = await fake(t);
  const poll = poller(server);
  const baseline = await poll(undefined);
  const gone = server.deliver({ subject: "oops" });
  const kept = server.deliver({ subject: "kept" });
  server.remove(gone.id);
  assert.deepEqual(ids(await poll(baseline.cursor)), [kept.id]);
});

test("history too old for Gmail (404) starts again from now without firing", async (t) => {
  const server = await fake(t);
  const poll = poller(server);
  const baseline = await poll(undefined);
  server.deliver({ subject: "lost in the gap" });
  server.expireHistory();

  const result = await poll(baseline.cursor);
  assert.deepEqual(result, { events: [], cursor: { history_id: server.historyId() } });
  const after = server.deliver({ subject: "after the gap" });
  assert.deepEqual(ids(await poll(result.cursor)), [after.id]);
});

test("429 and a 403 rate limit are retryable with their wait; 401 and a missing scope are AuthErrors", async (t) => {
  const server = await fake(t);
  const poll = poller(server);
  const baseline = await poll(undefined);

  server.rateLimit({ status: 429, retryAfter: 30 });
  await assert.rejects(
    poll(baseline.cursor),
    (error) =>
      error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 30 &&
      /Too many concurrent requests for user/.test(error.message),
  );
  server.rateLimit({ status: 403, retryAfter: 120, header: false });
  await assert.rejects(
    poll(baseline.cursor),
    (error) =>
      error instanceof RetryableError && error.status === 403 && error.retryAfterSeconds !== undefined &&
      error.retryAfterSeconds >= 119 && error.retryAfterSeconds <= 120 && /userRateLimitExceeded/.test(error.message),
  );

  await assert.rejects(
    poller(server, {}, "ya29.expired")(baseline.cursor),
    (error) => error instanceof AuthError && error.status === 401 && /UNAUTHENTICATED/.test(error.message),
  );
  await assert.rejects(
    poller(server, {}, "ya29.no-gmail")(baseline.cursor),
    (error) =>
      error instanceof AuthError && error.status === 403 && /insufficient authentication scopes/.test(error.message),
  );
  const requests = server.requests.length;
  await assert.rejects(poller(server, {}, "")(baseline.cursor), AuthError);
  assert.equal(server.requests.length, requests, "no token, no request");
});
