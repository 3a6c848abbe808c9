// GET /api/services/{service}/options/{param} through the local gateway, as a frontend's picker calls
// it: the discord channel_id choices listed by the fake Discord API (tests/support/fakes/discord.ts,
// listening where scripts/test.ts told the stack DISCORD_API_URL is) with a connection whose bot token
// is stored encrypted as the api stores it. Then every refusal: no token, unknown names, someone
// else's or another service's connection, one to reconnect, a bad cursor, and the provider's failures.
import assert from "node:assert/strict";
import postgres from "postgres";
import { loadKeyring, seal } from "../../../packages/nodes/src/crypto.ts";
import { accessToken } from "../../../scripts/lib/keys.ts";
import { type FakeDiscord, type FakeGuild, startFakeDiscord } from "../../../tests/support/fakes/discord.ts";

const functionsUrl = Deno.env.get("FUNCTIONS_URL") ?? "";
const supabaseUrl = Deno.env.get("SUPABASE_URL") ?? "";
const jwtSecret = Deno.env.get("SUPABASE_JWT_SECRET") ?? "";
const discordApiUrl = Deno.env.get("DISCORD_API_URL") ?? "";
// DATABASE_URL, not SUPABASE_DB_URL: another suite of this run points that one at a closed port.
const sql = postgres(Deno.env.get("DATABASE_URL") ?? "", { max: 2, onnotice: () => {} });

const TOKEN = "bot.token.valid";
const BOT = { id: "1200000000000000001", username: "area-bot" };
/** Eleven servers: a first page of ten (GUILDS_PER_PAGE), then one. */
const GUILDS: FakeGuild[] = Array.from({ length: 11 }, (_, i) => ({
  id: String(9000000000000000100n + BigInt(i)),
  name: `Server ${i}`,
  channels: [
    { id: String(9300000000000000000n + BigInt(i)), name: `room-${i}` },
    { id: String(9400000000000000000n + BigInt(i)), name: `Voice ${i}`, type: 2 },
  ],
}));

let discord: FakeDiscord | undefined;

async function fakeDiscord(): Promise<FakeDiscord> {
  if (!functionsUrl || !jwtSecret || !discordApiUrl) {
    throw new Error("FUNCTIONS_URL, SUPABASE_JWT_SECRET and DISCORD_API_URL are not set: run npm test");
  }
  return discord ??= await startFakeDiscord({
    port: Number(new URL(discordApiUrl).port),
    bots: { [TOKEN]: BOT },
    channels: [],
    guilds: GUILDS,
  });
}

Deno.test.afterAll(async () => {
  await Promise.all([sql.end(), discord?.close()]);
});

function optionsTest(name: string, fn: (discord: FakeDiscord) => Promise<void>) {
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn: async () => fn(await fakeDiscord()) });
}

interface User {
  id: string;
  token: string;
}

async function newUser(): Promise<User> {
  const email = `options-${crypto.randomUUID()}@example.com`;
  const [{ id }] = await sql`insert into auth.users (email) values (${email}) returning id`;
  return { id, token: await accessToken(jwtSecret, supabaseUrl, { id, email, appMetadata: {}, userMetadata: {} }) };
}

/** A connection stored as the api stores one: its credentials sealed under the stack's AREA_ENCRYPTION_KEY. */
async function connect(user: User, service: string, credentials: Record<string, unknown>): Promise<string> {
  const sealed = await seal(await loadKeyring(Deno.env.get("AREA_ENCRYPTION_KEY")), JSON.stringify(credentials));
  const [{ id }] = await sql`
    select private.store_connection(${user.id}::uuid, ${service}, ${crypto.randomUUID()}, 'area-bot', null,
                                    '{}'::text[], null, ${sealed.keyId}, ${sealed.ciphertext}) as id`;
  return id;
}

async function options(user: User | null, path: string, query: Record<string, string> = {}) {
  const url = new URL(`${functionsUrl}/api/services/${path}`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const response = await fetch(url, { headers: user ? { authorization: `Bearer ${user.token}` } : {} });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const guildCalls = (server: FakeDiscord) => server.requests.filter((r) => r.url.includes("/users/@me/guilds")).length;

optionsTest("lists the bot's channels a page of servers at a time, filters them, and reuses a page", async (server) => {
  const ada = await newUser();
  const connection = await connect(ada, "discord", { bot_token: TOKEN });
  const first = await options(ada, "discord/options/channel_id", { connection_id: connection });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.deepEqual(
    first.body.items,
    GUILDS.slice(0, 10).map((guild, i) => ({ value: guild.channels[0].id, label: `#room-${i} (Server ${i})` })),
  );
  assert.equal(first.body.next_cursor, GUILDS[9].id);
  assert.equal(first.headers.get("cache-control"), "private, max-age=60");
  const seen = server.requests.at(-1)!;
  assert.equal(seen.headers.authorization, `Bot ${TOKEN}`, "the api decrypted the stored token");

  const second = await options(ada, "discord/options/channel_id", {
    connection_id: connection,
    cursor: first.body.next_cursor,
  });
  assert.equal(second.status, 200);
  assert.deepEqual(second.body, {
    items: [{ value: GUILDS[10].channels[0].id, label: "#room-10 (Server 10)" }],
    next_cursor: null,
  });

  const calls = guildCalls(server);
  const again = await options(ada, "discord/options/channel_id", { connection_id: connection });
  assert.deepEqual(again.body, first.body);
  assert.equal(guildCalls(server), calls, "the same page within a minute is not asked of Discord again");

  const filtered = await options(ada, "discord/options/channel_id", { connection_id: connection, q: "ROOM-3" });
  assert.deepEqual(filtered.body.items, [{ value: GUILDS[3].channels[0].id, label: "#room-3 (Server 3)" }]);
});

optionsTest("refuses what names nothing, other people's and other services' connections, and bad input", async () => {
  const ada = await newUser();
  const bob = await newUser();
  const connection = await connect(ada, "discord", { bot_token: TOKEN });
  const query = { connection_id: connection };

  assert.equal((await options(null, "discord/options/channel_id", query)).status, 401);

  const unknownService = await options(ada, "nope/options/channel_id", query);
  assert.equal(unknownService.status, 404);
  assert.match(unknownService.body.error.message, /No service "nope"/);
  for (const param of ["include_bots", "nothing"]) {
    const refused = await options(ada, `discord/options/${param}`, query);
    assert.equal(refused.status, 404, param);
    assert.equal(refused.body.error.message, `Discord has no param "${param}" with options to list`);
  }

  const notYours = await options(bob, "discord/options/channel_id", query);
  assert.equal(notYours.status, 404);
  assert.equal(notYours.body.error.code, "not_found");

  const github = await connect(ada, "github", { access_token: "gho_x" });
  const wrongService = await options(ada, "discord/options/channel_id", { connection_id: github });
  assert.equal(wrongService.status, 422);
  assert.equal(wrongService.body.error.details.issues[0].path, "connection_id");
  assert.match(wrongService.body.error.message, /is a github connection, not discord/);

  const noId = await options(ada, "discord/options/channel_id", { connection_id: "not-a-uuid" });
  assert.equal(noId.status, 422);
  assert.equal(noId.body.error.details.issues[0].path, "query.connection_id");

  const badCursor = await options(ada, "discord/options/channel_id", { ...query, cursor: "page-2" });
  assert.equal(badCursor.status, 400);
  assert.equal(badCursor.body.error.code, "invalid_cursor");
  assert.equal(badCursor.body.error.details.path, "cursor");

  await sql`update public.user_services set status = 'needs_reconnect', last_error = 'token revoked'
            where id = ${connection}`;
  const stale = await options(ada, "discord/options/channel_id", query);
  assert.equal(stale.status, 409);
  assert.equal(stale.body.error.code, "reconnect_required");
  assert.match(stale.body.error.message, /Discord connection needs to be reconnected \(token revoked\)/);
});

optionsTest(
  "a token Discord refuses asks for a reconnect; a rate limit is a 503 with Discord's wait",
  async (server) => {
    const ada = await newUser();
    const revoked = await connect(ada, "discord", { bot_token: "revoked.token" });
    const refused = await options(ada, "discord/options/channel_id", { connection_id: revoked });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, "reconnect_required");
    assert.match(refused.body.error.message, /was refused by Discord/);

    const connection = await connect(ada, "discord", { bot_token: TOKEN });
    server.rateLimit({ retryAfter: 7 });
    const limited = await options(ada, "discord/options/channel_id", { connection_id: connection });
    assert.equal(limited.status, 503);
    assert.equal(limited.headers.get("retry-after"), "7");
    assert.equal(limited.body.error.code, "provider_unavailable");

    const recovered = await options(ada, "discord/options/channel_id", { connection_id: connection });
    assert.equal(recovered.status, 200, "a failed load is not cached");
    assert.equal(recovered.body.items.length, 10);
  },
);
