// google/add_label against the Gmail fake: the label resolved by name or id, the modify request Gmail
// receives, a missing label or message refused, a retry harmless, failures classified.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import type { ReactionContext } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { type FakeGmail, startFakeGmail } from "../../../../../tests/support/fakes/gmail.ts";
import { reactionContext } from "../../../../../tests/support/node_context.ts";
import { addLabel } from "./add_label.ts";
import { google } from "./service.ts";

const TOKEN = "ya29.valid";

async function fake(t: TestContext): Promise<FakeGmail> {
  const server = await startFakeGmail({ tokens: [TOKEN] });
  t.after(() => server.close());
  return server;
}

function context(server: FakeGmail, token = TOKEN): ReactionContext {
  return reactionContext(google, {
    credentials: { access_token: token, token_type: "Bearer" },
    env: { GMAIL_API_URL: server.origin },
  });
}

const modifyRequests = (server: FakeGmail) => server.requests.filter((request) => request.url.endsWith("/modify"));

test("adds a label named by the user: resolved to its id, sent as addLabelIds", async (t) => {
  const server = await fake(t);
  server.createLabel("Work");
  const receipts = server.createLabel("Receipts");
  const mail = server.deliver();

  const output = await addLabel.run(context(server), { message_id: mail.id, label: "Receipts" });
  assert.deepEqual(output, { id: mail.id, thread_id: mail.threadId, label_ids: ["INBOX", "UNREAD", receipts.id] });
  assert.deepEqual(server.requests.map((request) => `${request.method} ${request.url}`), [
    "GET /gmail/v1/users/me/labels",
    `POST /gmail/v1/users/me/messages/${mail.id}/modify`,
  ]);
  const [modify] = modifyRequests(server);
  assert.equal(modify.headers.authorization, `Bearer ${TOKEN}`);
  assert.match(modify.headers["content-type"]!, /^application\/json/);
  assert.deepEqual(JSON.parse(modify.body), { addLabelIds: [receipts.id] });
  assert.deepEqual(server.message(mail.id)!.labelIds, ["INBOX", "UNREAD", receipts.id]);
});

test("a label id, a system label and a name in another case work; a retry changes nothing", async (t) => {
  const server = await fake(t);
  const receipts = server.createLabel("Receipts");
  const mail = server.deliver();
  await addLabel.run(context(server), { message_id: mail.id, label: receipts.id });
  await addLabel.run(context(server), { message_id: mail.id, label: "starred" });
  await addLabel.run(context(server), { message_id: mail.id, label: "RECEIPTS" });
  assert.deepEqual(modifyRequests(server).map((request) => JSON.parse(request.body).addLabelIds), [
    [receipts.id],
    ["STARRED"],
    [receipts.id],
  ]);
  assert.deepEqual(server.message(mail.id)!.labelIds, ["INBOX", "UNREAD", receipts.id, "STARRED"]);
});

test("a missing label is a PermanentError naming it; a missing message is Gmail's 404", async (t) => {
  const server = await fake(t);
  const mail = server.deliver();
  await assert.rejects(
    addLabel.run(context(server), { message_id: mail.id, label: "Invoices" }),
    (error) =>
      error instanceof PermanentError && !(error instanceof AuthError) && /label: .*"Invoices"/.test(error.message),
  );
  assert.equal(modifyRequests(server).length, 0);
  await assert.rejects(
    addLabel.run(context(server), { message_id: "18c0000000000000", label: "STARRED" }),
    (error) =>
      error instanceof PermanentError && error.status === 404 && /Requested entity was not found/.test(error.message),
  );
  await assert.rejects(
    addLabel.run(context(server), { message_id: "not an id", label: "STARRED" }),
    (error) => error instanceof PermanentError && /message_id/.test(error.message),
  );
});

test("401 is an AuthError, 429 retryable", async (t) => {
  const server = await fake(t);
  const mail = server.deliver();
  await assert.rejects(
    addLabel.run(context(server, "ya29.expired"), { message_id: mail.id, label: "STARRED" }),
    (error) => error instanceof AuthError && error.status === 401,
  );
  server.rateLimit({ status: 429, retryAfter: 5 });
  await assert.rejects(
    addLabel.run(context(server), { message_id: mail.id, label: "STARRED" }),
    (error) => error instanceof RetryableError && error.retryAfterSeconds === 5,
  );
  assert.deepEqual(server.message(mail.id)!.labelIds, ["INBOX", "UNREAD"]);
});
