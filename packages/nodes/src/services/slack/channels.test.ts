// The slack channel picker against the fake Slack Web API: public channels (archived ones left out),
// the app's membership shown, Slack's cursor pagination, the q filter and the failure classes.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { jsonSchema } from "../../catalogue.ts";
import { AuthError, RetryableError } from "../../errors.ts";
import { InvalidOptionsCursor, optionsLoader } from "../../options.ts";
import { type FakeSlack, startFakeSlack } from "../../../../../tests/support/fakes/slack.ts";
import { nodeContext } from "../../../../../tests/support/node_context.ts";
import { listChannels } from "./channels.ts";
import { messagePosted } from "./message_posted.ts";
import { postMessage } from "./post_message.ts";
import { slack } from "./service.ts";

const TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy";
const INSTALLATION = {
  team: { id: "T9TK3CUKW", name: "Slack Softball Team", domain: "softball" },
  botUserId: "U0KRQLJ9H",
  botId: "B0KRQLJ9H",
  botName: "area",
};

async function fake(t: TestContext, channels = [
  { id: "C1H9RESGL", name: "general", botIsMember: true },
  { id: "C2ABCDEFG", name: "random", botIsMember: false },
  { id: "C3ABCDEFG", name: "old", botIsMember: true, archived: true },
]): Promise<FakeSlack> {
  const server = await startFakeSlack({ bots: { [TOKEN]: INSTALLATION }, channels });
  t.after(() => server.close());
  return server;
}

const context = (server: FakeSlack, token = TOKEN) =>
  nodeContext(slack, { credentials: { access_token: token }, env: { SLACK_API_URL: server.apiUrl } });

test("lists the public channels with a GET and the bot token, archived ones left out, membership shown", async (t) => {
  const server = await fake(t);
  assert.deepEqual(await listChannels(context(server), {}), {
    options: [
      { value: "C1H9RESGL", label: "#general" },
      { value: "C2ABCDEFG", label: "#random (invite the app first)" },
    ],
  });
  const [request] = server.requests;
  assert.equal(request.method, "GET");
  const url = new URL(request.url, "http://x");
  assert.equal(url.pathname, "/api/conversations.list");
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    types: "public_channel",
    exclude_archived: "true",
    limit: "200",
  });
  assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
});

test("pages with Slack's next_cursor until it is empty, and filters by q", async (t) => {
  const names = Array.from({ length: 450 }, (_, i) => `team-${String(i).padStart(3, "0")}`);
  const server = await fake(
    t,
    names.map((name, i) => ({ id: `C${String(i).padStart(8, "0")}`, name, botIsMember: true })),
  );
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await listChannels(context(server), { cursor });
    seen.push(...page.options.map((option) => option.label));
    cursor = page.next_cursor;
    pages++;
  } while (cursor);
  assert.equal(pages, 3);
  assert.deepEqual(seen, names.map((name) => `#${name}`));
  const filtered = await listChannels(context(server), { q: "TEAM-01" });
  assert.deepEqual(filtered.options.map((option) => option.label).slice(0, 2), ["#team-010", "#team-011"]);
});

test("a cursor Slack did not issue is the client's mistake", async (t) => {
  const server = await fake(t);
  await assert.rejects(listChannels(context(server), { cursor: "../../etc" }), InvalidOptionsCursor);
  assert.equal(server.requests.length, 0);
  await assert.rejects(listChannels(context(server), { cursor: "bm9wZQ==" }), InvalidOptionsCursor);
});

test("a revoked token is an AuthError, a 429 a RetryableError with its wait", async (t) => {
  const server = await fake(t);
  server.revoke(TOKEN);
  await assert.rejects(listChannels(context(server), {}), (error) => error instanceof AuthError);
  const other = await fake(t);
  other.rateLimit({ retryAfter: 20 });
  await assert.rejects(
    listChannels(context(other), {}),
    (error) => error instanceof RetryableError && error.retryAfterSeconds === 20,
  );
});

test("both slack nodes' channel params offer the picker, with the same loader", () => {
  for (const node of [postMessage, messagePosted]) {
    const schema = jsonSchema(node.params) as { properties: Record<string, Record<string, unknown>> };
    assert.equal(schema.properties.channel["x-area-options"], true, node.key);
  }
  assert.equal(optionsLoader(slack, "channel"), listChannels);
});
