// The gmail label picker against the Gmail fake: the applicable system labels then the user's, by id with
// readable names, paged by offset, the q filter, the failure classes, and both label params declaring it.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { jsonSchema } from "../../catalogue.ts";
import { AuthError, RetryableError } from "../../errors.ts";
import { InvalidOptionsCursor, optionsLoader } from "../../options.ts";
import { type FakeGmail, startFakeGmail } from "../../../../../tests/support/fakes/gmail.ts";
import { nodeContext } from "../../../../../tests/support/node_context.ts";
import { LABELS_PER_PAGE, listLabels } from "./labels.ts";
import { google } from "./service.ts";

const TOKEN = "ya29.valid";

const SYSTEM_OPTIONS = [
  { value: "INBOX", label: "Inbox" },
  { value: "STARRED", label: "Starred" },
  { value: "IMPORTANT", label: "Important" },
  { value: "UNREAD", label: "Unread" },
  { value: "SPAM", label: "Spam" },
  { value: "TRASH", label: "Trash" },
  { value: "CATEGORY_PERSONAL", label: "Category: Personal" },
  { value: "CATEGORY_SOCIAL", label: "Category: Social" },
  { value: "CATEGORY_PROMOTIONS", label: "Category: Promotions" },
  { value: "CATEGORY_UPDATES", label: "Category: Updates" },
  { value: "CATEGORY_FORUMS", label: "Category: Forums" },
];

async function fake(t: TestContext): Promise<FakeGmail> {
  const server = await startFakeGmail({ tokens: [TOKEN] });
  t.after(() => server.close());
  return server;
}

const context = (server: FakeGmail, token = TOKEN) =>
  nodeContext(google, { credentials: { access_token: token }, env: { GMAIL_API_URL: server.origin } });

test("lists the applicable system labels, then the user's by name, valued by id", async (t) => {
  const server = await fake(t);
  const work = server.createLabel("Work");
  const receipts = server.createLabel("receipts");
  const clients = server.createLabel("Work/Clients");
  const page = await listLabels(context(server), {});
  assert.deepEqual(page, {
    options: [
      ...SYSTEM_OPTIONS,
      { value: receipts.id, label: "receipts" },
      { value: work.id, label: "Work" },
      { value: clients.id, label: "Work/Clients" },
    ],
  });
  // SENT and DRAFT are Gmail's to set (add_label would fail), CHAT is not mail: none is offered.
  assert.ok(!page.options.some((option) => ["SENT", "DRAFT", "CHAT"].includes(option.value)));
  assert.deepEqual(server.requests.map((request) => `${request.method} ${request.url}`), [
    "GET /gmail/v1/users/me/labels",
  ]);
  assert.equal(server.requests[0].headers.authorization, `Bearer ${TOKEN}`);
});

test("pages Gmail's single answer by offset, every label once, until the last short page", async (t) => {
  const server = await fake(t);
  const count = 2 * LABELS_PER_PAGE + 50;
  const created = Array.from({ length: count }, (_, i) => server.createLabel(`Project ${String(i).padStart(4, "0")}`));
  const seen: string[] = [];
  const cursors: (string | undefined)[] = [];
  let cursor: string | undefined;
  do {
    const page = await listLabels(context(server), { cursor });
    seen.push(...page.options.map((option) => option.value));
    cursor = page.next_cursor;
    cursors.push(cursor);
  } while (cursor);
  assert.deepEqual(cursors, [String(LABELS_PER_PAGE), String(2 * LABELS_PER_PAGE), undefined]);
  assert.deepEqual(seen, [...SYSTEM_OPTIONS.map((option) => option.value), ...created.map((label) => label.id)]);
  assert.equal(server.requests.length, 3);
});

test("q keeps the labels whose name or id contains it, case-insensitively, before paging", async (t) => {
  const server = await fake(t);
  for (let i = 0; i < LABELS_PER_PAGE + 10; i++) server.createLabel(`Filler ${String(i).padStart(4, "0")}`);
  const invoices = server.createLabel("Invoices");
  const receipts = server.createLabel("Receipts");
  assert.deepEqual(await listLabels(context(server), { q: "inbox" }), { options: [SYSTEM_OPTIONS[0]] });
  assert.deepEqual(await listLabels(context(server), { q: "  VOICES " }), {
    options: [{ value: invoices.id, label: "Invoices" }],
  });
  assert.deepEqual(await listLabels(context(server), { q: receipts.id }), {
    options: [{ value: receipts.id, label: "Receipts" }],
  });
  assert.deepEqual(await listLabels(context(server), { q: "category_" }), { options: SYSTEM_OPTIONS.slice(6) });
});

test("a cursor this list did not issue is refused before Gmail is called", async (t) => {
  const server = await fake(t);
  for (const cursor of ["0", "-200", "150", "2e2", "abc", String(LABELS_PER_PAGE) + "&q=x"]) {
    await assert.rejects(listLabels(context(server), { cursor }), InvalidOptionsCursor, cursor);
  }
  assert.equal(server.requests.length, 0);
  // One past the end (labels deleted since) is an empty last page, not an error.
  assert.deepEqual(await listLabels(context(server), { cursor: String(LABELS_PER_PAGE) }), { options: [] });
});

test("an invalid token is an AuthError; a rate limit is retryable after Google's Retry-After", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    listLabels(context(server, "ya29.expired"), {}),
    (error) => error instanceof AuthError && error.status === 401,
  );
  server.rateLimit({ status: 429, retryAfter: 20 });
  await assert.rejects(
    listLabels(context(server), {}),
    (error) => error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 20,
  );
});

test("new_email's and add_label's label params share the picker, each keeping its own rule", () => {
  assert.equal(optionsLoader(google, "label"), listLabels);
  const newEmail = google.actions.find((action) => action.key === "new_email")!;
  const addLabel = google.reactions.find((reaction) => reaction.key === "add_label")!;
  for (const node of [newEmail, addLabel]) {
    const property = jsonSchema(node.params).properties?.label as Record<string, unknown>;
    assert.equal(property["x-area-options"], true, node.key);
    assert.equal(typeof property.description, "string", node.key);
  }
  assert.equal(jsonSchema(newEmail.params).required?.includes("label") ?? false, false);
  assert.ok(jsonSchema(addLabel.params).required?.includes("label"));
  assert.equal(newEmail.params.parse({ label: " " }).label, undefined, "blank is no filter");
  assert.equal(addLabel.params.safeParse({ message_id: "18c1f2a3b4d5e6f7", label: " " }).success, false);
});
