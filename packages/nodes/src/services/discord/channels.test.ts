// The discord channel picker against the fake Discord API: the bot's servers and their message
// channels, paging by server id, the q filter, and the failure classes.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { jsonSchema } from "../../catalogue.ts";
import { AuthError, RetryableError } from "../../errors.ts";
import { InvalidOptionsCursor, optionsLoader } from "../../options.ts";
import { type FakeDiscord, type FakeGuild, startFakeDiscord } from "../../../../../tests/support/fakes/discord.ts";
import { nodeContext } from "../../../../../tests/support/node_context.ts";
import { GUILDS_PER_PAGE, listChannels } from "./channels.ts";
import { discord } from "./service.ts";

const TOKEN = "bot.token.valid";
const BOT = { id: "1200000000000000001", username: "area-bot" };

const ops: FakeGuild = {
  id: "9000000000000000001",
  name: "Ops",
  channels: [
    { id: "9100000000000000003", name: "alerts", position: 2 },
    { id: "9100000000000000001", name: "Voice", type: 2, position: 0 },
    { id: "9100000000000000002", name: "general", position: 1 },
    { id: "9100000000000000004", name: "Text channels", type: 4, position: 0 },
    { id: "9100000000000000005", name: "releases", type: 5, position: 3 },
  ],
};
const guests: FakeGuild = {
  id: "9000000000000000002",
  name: "Guests",
  channels: [{ id: "9200000000000000001", name: "welcome" }],
};

async function fake(t: TestContext, guilds: FakeGuild[] = [ops, guests]): Promise<FakeDiscord> {
  const server = await startFakeDiscord({ bots: { [TOKEN]: BOT }, channels: [], guilds });
  t.after(() => server.close());
  return server;
}

const context = (server: FakeDiscord, token = TOKEN) =>
  nodeContext(discord, { credentials: { bot_token: token }, env: { DISCORD_API_URL: server.apiUrl } });

test("lists the text and announcement channels of the bot's servers, in Discord's order, labelled", async (t) => {
  const server = await fake(t);
  const page = await listChannels(context(server), {});
  assert.deepEqual(page, {
    options: [
      { value: "9100000000000000002", label: "#general (Ops)" },
      { value: "9100000000000000003", label: "#alerts (Ops)" },
      { value: "9100000000000000005", label: "#releases (Ops)" },
      { value: "9200000000000000001", label: "#welcome (Guests)" },
    ],
  });
  assert.deepEqual(server.requests.map((request) => request.url), [
    `/api/v10/users/@me/guilds?limit=${GUILDS_PER_PAGE}`,
    `/api/v10/guilds/${ops.id}/channels`,
    `/api/v10/guilds/${guests.id}/channels`,
  ]);
  for (const request of server.requests) assert.equal(request.headers.authorization, `Bot ${TOKEN}`);
});

test("pages by server: a full page of servers gives the last one's id as the cursor", async (t) => {
  const many = Array.from({ length: GUILDS_PER_PAGE + 2 }, (_, i): FakeGuild => ({
    id: String(9000000000000000100n + BigInt(i)),
    name: `Server ${i}`,
    channels: [{ id: String(9300000000000000000n + BigInt(i)), name: `room-${i}` }],
  }));
  const server = await fake(t, many);
  const first = await listChannels(context(server), {});
  assert.equal(first.options.length, GUILDS_PER_PAGE);
  assert.equal(first.next_cursor, many[GUILDS_PER_PAGE - 1].id);

  const second = await listChannels(context(server), { cursor: first.next_cursor });
  assert.deepEqual(second.options.map((option) => option.label), [
    `#room-${GUILDS_PER_PAGE} (Server ${GUILDS_PER_PAGE})`,
    `#room-${GUILDS_PER_PAGE + 1} (Server ${GUILDS_PER_PAGE + 1})`,
  ]);
  assert.equal(second.next_cursor, undefined, "a short page of servers is the last");
  const guildRequests = server.requests.filter((request) => request.url.includes("/users/@me/guilds"));
  assert.equal(new URL(guildRequests[1].url, "http://x").searchParams.get("after"), first.next_cursor);
});

test("q keeps the channels whose label contains it, case-insensitively", async (t) => {
  const server = await fake(t);
  const page = await listChannels(context(server), { q: "  GUEST " });
  assert.deepEqual(page.options.map((option) => option.value), ["9200000000000000001"]);
  const none = await listChannels(context(server), { q: "nothing-like-this" });
  assert.deepEqual(none, { options: [] });
});

test("a cursor it never issued is refused before Discord is called", async (t) => {
  const server = await fake(t);
  await assert.rejects(listChannels(context(server), { cursor: "../../users" }), InvalidOptionsCursor);
  assert.equal(server.requests.length, 0);
});

test("a refused token is an AuthError; a rate limit is retryable with Discord's wait", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    listChannels(context(server, "revoked.token"), {}),
    (error) => error instanceof AuthError && error.status === 401,
  );
  server.rateLimit({ retryAfter: 12.5 });
  await assert.rejects(
    listChannels(context(server), {}),
    (error) => error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 13,
  );
});

test("both discord nodes' channel_id declare the picker, in their JSON Schema and to the api", () => {
  for (const node of [...discord.actions, ...discord.reactions]) {
    const property = jsonSchema(node.params).properties?.channel_id as Record<string, unknown>;
    assert.equal(property["x-area-options"], true, node.key);
    assert.match(String(property.description), /channel/, "the node's own description stays");
  }
  assert.equal(optionsLoader(discord, "channel_id"), listChannels);
  assert.equal(optionsLoader(discord, "include_bots"), undefined);
});
