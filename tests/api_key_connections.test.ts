// POST /api/connections end to end, through the gateway: an api_key connection (a Discord bot token)
// checked at the provider by the service's declared identity (the Discord fake,
// tests/support/fakes/discord.ts, listening where DISCORD_API_URL told the stack it would), then
// sealed and stored; refused, malformed and unreachable cases store nothing.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { loadKeyring, unseal } from "../packages/nodes/src/crypto.ts";
import { createSignedInUser } from "../scripts/lib/areas.ts";
import { type DiscordUser, type FakeDiscord, startFakeDiscord } from "./support/fakes/discord.ts";

const env = process.env;
const functionsUrl = env.FUNCTIONS_URL!;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });

const HELPER: DiscordUser = { id: "1100000000000000001", username: "area-helper", bot: true };
const OTHER: DiscordUser = { id: "1100000000000000002", username: "other-bot", bot: true };
/** Two tokens of one bot (a reset token) and one of another bot, as the Developer Portal shows them. */
const TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GhAbCd.first-token_value";
const RESET_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GhEfGh.reset-token_value";
const OTHER_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMg.GhIjKl.other-token_value";
const UNKNOWN_TOKEN = "MTk5OTk5OTk5OTk5OTk5OTk5OQ.GhMnOp.revoked-token";

let discord: FakeDiscord;

before(async () => {
  assert.ok(functionsUrl && env.DISCORD_API_URL, "run through npm test (provider env)");
  discord = await startFakeDiscord({
    port: Number(new URL(env.DISCORD_API_URL!).port),
    bots: { [TOKEN]: HELPER, [RESET_TOKEN]: HELPER, [OTHER_TOKEN]: OTHER },
    channels: [],
  });
});
after(async () => {
  await Promise.all([discord?.close(), pool.end()]);
});

type User = Awaited<ReturnType<typeof createSignedInUser>>;

function connect(who: User | null, body: unknown) {
  return fetch(`${functionsUrl}/api/connections`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(who ? { authorization: `Bearer ${who.token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
}

async function stored(userId: string) {
  const { rows } = await pool.query(
    `select us.id, s.key as service, us.label, us.provider_account_id, us.provider_login, us.status, us.last_error,
            c.key_id, c.ciphertext
     from public.user_services us join public.services s on s.id = us.service_id
       left join private.user_service_credentials c on c.user_service_id = us.id
     where us.user_id = $1 order by us.created_at`,
    [userId],
  );
  return rows;
}

async function credentialsOf(row: { key_id: string; ciphertext: string }) {
  return JSON.parse(await unseal(await loadKeyring(env.AREA_ENCRYPTION_KEY), row.key_id, row.ciphertext));
}

interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: { path: string; rule: string }[]; reason?: string } };
}

const issuesOf = (body: ErrorBody) => body.error.details?.issues?.map((issue) => [issue.path, issue.rule]);

const identityCalls = () => discord.requests.filter((request) => request.url === "/api/v10/users/@me").length;

test("a bot token Discord accepts: 201 with the bot's account, the token stored sealed and never shown", async () => {
  const alice = await createSignedInUser(pool);
  const response = await connect(alice, { service: "discord", credentials: { bot_token: ` ${TOKEN} ` }, label: "ops" });
  const text = await response.text();
  assert.equal(response.status, 201, text);
  assert.ok(!text.includes(TOKEN), "the answer never holds the token");
  const connection = JSON.parse(text);
  assert.deepEqual(
    [
      connection.service,
      connection.provider_account_id,
      connection.provider_login,
      connection.label,
      connection.status,
    ],
    ["discord", HELPER.id, HELPER.username, "ops", "active"],
  );
  assert.equal(response.headers.get("location"), `/api/connections/${connection.id}`);

  const identity = discord.requests.findLast((request) => request.url === "/api/v10/users/@me")!;
  assert.equal(identity.method, "GET");
  assert.equal(identity.headers.authorization, `Bot ${TOKEN}`, "the token, trimmed, as Discord documents it");
  assert.match(identity.headers["user-agent"] ?? "", /^DiscordBot \(/);

  const [row] = await stored(alice.id);
  assert.equal(row.id, connection.id);
  assert.ok(!row.ciphertext.includes(TOKEN), "the stored credential is not the token");
  assert.ok(!Buffer.from(row.ciphertext, "base64").toString("latin1").includes(TOKEN.slice(0, 20)));
  assert.deepEqual(await credentialsOf(row), { bot_token: TOKEN }, "what the worker hands the nodes");

  const listed = await fetch(`${functionsUrl}/api/connections`, {
    headers: { authorization: `Bearer ${alice.token}` },
  });
  const listing = await listed.text();
  assert.equal(JSON.parse(listing).items[0].id, connection.id);
  assert.ok(!listing.includes(TOKEN) && !listing.includes(row.ciphertext), "no credential in the listing");

  const services = await fetch(`${functionsUrl}/api/services`, { headers: { authorization: `Bearer ${alice.token}` } });
  const { items } = await services.json() as { items: Record<string, unknown>[] };
  const entry = items.find((service) => service.key === "discord")!;
  assert.deepEqual([entry.auth_kind, entry.connected], ["api_key", true]);
  const schema = entry.credentials_schema as {
    properties: Record<string, Record<string, unknown>>;
    required: string[];
  };
  assert.deepEqual(Object.keys(schema.properties), ["bot_token"]);
  assert.equal(schema.properties.bot_token["x-area-type"], "secret");
  assert.equal(schema.properties.bot_token.writeOnly, true);
  assert.deepEqual(schema.required, ["bot_token"]);
  assert.equal(items.find((service) => service.key === "github")!.credentials_schema, null, "OAuth2: no form");
});

test("a token Discord refuses: 422 credentials_refused naming Discord, nothing stored", async () => {
  const bob = await createSignedInUser(pool);
  const response = await connect(bob, { service: "discord", credentials: { bot_token: UNKNOWN_TOKEN } });
  const body = await response.json() as ErrorBody;
  assert.equal(response.status, 422, JSON.stringify(body));
  assert.equal(body.error.code, "credentials_refused");
  assert.equal(body.error.message, "Discord refused these credentials");
  assert.match(body.error.details?.reason ?? "", /answered 401/);
  assert.ok(!JSON.stringify(body).includes(UNKNOWN_TOKEN));
  assert.deepEqual(await stored(bob.id), []);
});

test("credentials that break the declared schema: 422 naming the field and rule, Discord never asked", async () => {
  const carol = await createSignedInUser(pool);
  const calls = identityCalls();
  const cases: [unknown, [string, string][]][] = [
    [{ service: "discord", credentials: {} }, [["credentials.bot_token", "invalid_type"]]],
    [{ service: "discord", credentials: { bot_token: "not a token!" } }, [["credentials.bot_token", "invalid_format"]]],
    [{ service: "discord", credentials: { bot_token: "x".repeat(201) } }, [["credentials.bot_token", "too_big"]]],
    [{ service: "discord" }, [["credentials", "invalid_type"]]],
    [{ service: "discord", credentials: { bot_token: TOKEN }, label: "" }, [["label", "too_small"]]],
    [{ service: "discord", credentials: { bot_token: TOKEN }, token: TOKEN }, [["", "unrecognized_keys"]]],
  ];
  for (const [body, expected] of cases) {
    const response = await connect(carol, body);
    const answer = await response.json() as ErrorBody;
    assert.equal(response.status, 422, JSON.stringify(answer));
    assert.equal(answer.error.code, "validation_failed");
    assert.deepEqual(issuesOf(answer), expected, JSON.stringify(body));
    assert.ok(!JSON.stringify(answer).includes("not a token!"), "the value is never echoed");
  }
  const notJson = await fetch(`${functionsUrl}/api/connections`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${carol.token}` },
    body: "{",
  });
  assert.equal(notJson.status, 400);
  assert.equal(identityCalls(), calls, "nothing invalid reaches the provider");
  assert.deepEqual(await stored(carol.id), []);
  assert.equal((await connect(null, { service: "discord", credentials: { bot_token: TOKEN } })).status, 401);
});

test("a service that does not connect with an API key: 422 naming it and how it connects", async () => {
  const dave = await createSignedInUser(pool);
  const cases: [string, string, RegExp][] = [
    [
      "github",
      "api_key_service",
      /GitHub does not connect with an API key: connect it with POST \/api\/connections\/github\/authorize/,
    ],
    ["http", "api_key_service", /HTTP.* does not connect with an API key: it needs no connection/],
    ["nope", "unknown_service", /no service "nope"/],
  ];
  for (const [service, rule, message] of cases) {
    const response = await connect(dave, { service, credentials: { api_key: "k" } });
    const body = await response.json() as ErrorBody;
    assert.equal(response.status, 422, JSON.stringify(body));
    assert.deepEqual(issuesOf(body), [["service", rule]]);
    assert.match(body.error.message, message);
  }
  assert.deepEqual(await stored(dave.id), []);
});

test("posting the same bot again replaces its credentials (200, one connection); another bot is another", async () => {
  const erin = await createSignedInUser(pool);
  const first = await connect(erin, { service: "discord", credentials: { bot_token: TOKEN }, label: "prod" });
  assert.equal(first.status, 201);
  const { id } = await first.json() as { id: string };
  await pool.query(
    "update public.user_services set status = 'needs_reconnect', last_error = 'Discord refused the token' where id = $1",
    [id],
  );
  const [before] = await stored(erin.id);

  const again = await connect(erin, { service: "discord", credentials: { bot_token: RESET_TOKEN } });
  const updated = await again.json() as Record<string, unknown>;
  assert.equal(again.status, 200, JSON.stringify(updated));
  assert.deepEqual([updated.id, updated.status, updated.last_error, updated.label], [id, "active", null, "prod"]);
  const rows = await stored(erin.id);
  assert.equal(rows.length, 1, "one connection per user, service and bot");
  assert.notEqual(rows[0].ciphertext, before.ciphertext);
  assert.deepEqual(await credentialsOf(rows[0]), { bot_token: RESET_TOKEN }, "the new token replaced the old");

  const renamed = await connect(erin, { service: "discord", credentials: { bot_token: RESET_TOKEN }, label: "main" });
  assert.equal(renamed.status, 200);
  assert.equal((await renamed.json() as { label: string }).label, "main");

  const other = await connect(erin, { service: "discord", credentials: { bot_token: OTHER_TOKEN } });
  assert.equal(other.status, 201);
  assert.deepEqual((await stored(erin.id)).map((row) => row.provider_login), [HELPER.username, OTHER.username]);
});

test("Discord rate limiting the check: 503 with its Retry-After, nothing stored", async () => {
  const frank = await createSignedInUser(pool);
  discord.rateLimit({ retryAfter: 30, count: 1 });
  const response = await connect(frank, { service: "discord", credentials: { bot_token: TOKEN } });
  const body = await response.json() as ErrorBody;
  assert.equal(response.status, 503, JSON.stringify(body));
  assert.equal(body.error.code, "provider_unavailable");
  assert.match(body.error.message, /^Discord could not be reached/);
  assert.equal(response.headers.get("retry-after"), "30");
  assert.deepEqual(await stored(frank.id), []);
});

test("deleting an api_key connection removes it with its credentials, nothing asked of Discord", async () => {
  const grace = await createSignedInUser(pool);
  const created = await connect(grace, { service: "discord", credentials: { bot_token: TOKEN } });
  const { id } = await created.json() as { id: string };
  const calls = discord.requests.length;
  const deleted = await fetch(`${functionsUrl}/api/connections/${id}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${grace.token}` },
  });
  assert.equal(deleted.status, 204);
  assert.deepEqual(await stored(grace.id), []);
  const { rowCount } = await pool.query("select from private.user_service_credentials where user_service_id = $1", [
    id,
  ]);
  assert.equal(rowCount, 0);
  assert.equal(discord.requests.length, calls, "Discord has no token revocation to call");
});
