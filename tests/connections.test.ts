// The OAuth2 connection flow end to end, through the gateway, with GitHub played by real protocol
// peers: oauth2-mock-server as its authorization server (codes, PKCE S256 checks, signed tokens) and
// the REST fake (tests/support/fakes/github.ts) for the account and the token's revocation. The
// fakes listen where scripts/test.ts told the stack they would (GITHUB_OAUTH_URL, GITHUB_API_URL).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { EncryptJWT } from "jose";
import pg from "pg";
import { deriveKeys, loadKeyring, unseal } from "../packages/nodes/src/crypto.ts";
import { createArea, createSignedInUser } from "../scripts/lib/areas.ts";
import { type FakeGithub, startFakeGithub } from "./support/fakes/github.ts";
import { type FakeGithubOAuth, startFakeGithubOAuth } from "./support/fakes/github_oauth.ts";

const env = process.env;
const functionsUrl = env.FUNCTIONS_URL!;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
let oauth: FakeGithubOAuth;
let api: FakeGithub;

before(async () => {
  assert.ok(functionsUrl && env.GITHUB_OAUTH_URL && env.GITHUB_API_URL, "run through npm test (provider env)");
  const client = { id: env.GITHUB_CLIENT_ID!, secret: env.GITHUB_CLIENT_SECRET! };
  oauth = await startFakeGithubOAuth({ port: Number(new URL(env.GITHUB_OAUTH_URL!).port), client });
  api = await startFakeGithub({
    port: Number(new URL(env.GITHUB_API_URL!).port),
    authenticate: (token) => oauth.tokenUser(token),
    client,
  });
});
after(async () => {
  await Promise.all([oauth?.close(), api?.close(), pool.end()]);
});

interface User {
  id: string;
  token: string;
}

function call(path: string, token: string | null, init: RequestInit = {}) {
  return fetch(`${functionsUrl}/api${path}`, {
    ...init,
    redirect: "manual",
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers },
    signal: AbortSignal.timeout(15_000),
  });
}

async function authorize(who: User, service = "github"): Promise<URL> {
  const response = await call(`/connections/${service}/authorize`, who.token, { method: "POST" });
  assert.equal(response.status, 200, await response.clone().text());
  return new URL((await response.json() as { url: string }).url);
}

/** The browser at the provider's consent screen: where it is sent back (the callback, with code and state). */
async function consent(url: URL): Promise<URL> {
  const response = await fetch(url, { redirect: "manual" });
  assert.equal(response.status, 302, await response.text());
  return new URL(response.headers.get("location")!);
}

/** The browser back at the callback: where the api sends it (the frontend, with the outcome). */
async function callback(url: URL): Promise<URLSearchParams> {
  const response = await fetch(url, { redirect: "manual" });
  assert.equal(response.status, 302, await response.text());
  const location = new URL(response.headers.get("location")!);
  assert.equal(`${location.origin}${location.pathname}`, env.AREA_FRONTEND_URL, "the frontend gets the outcome");
  assert.equal(response.headers.get("cache-control"), "no-store");
  return location.searchParams;
}

async function connect(who: User): Promise<URLSearchParams> {
  return await callback(await consent(await authorize(who)));
}

async function connections(userId: string) {
  const { rows } = await pool.query(
    `select us.id, us.provider_account_id, us.provider_login, us.provider_email, us.scopes, us.status, us.last_error,
            c.key_id, c.ciphertext
     from public.user_services us left join private.user_service_credentials c on c.user_service_id = us.id
     where us.user_id = $1`,
    [userId],
  );
  return rows;
}

/** The access token the api used for the account lookup (the REST fake saw it). */
function lastTokenSeenByApi(): string {
  const request = api.requests.findLast((r) => r.url === "/user");
  return request!.headers.authorization!.replace(/^Bearer /, "");
}

const errorCode = async (response: Response) => (await response.json() as { error: { code: string } }).error.code;

const failure = (outcome: URLSearchParams) => [outcome.get("status"), outcome.get("reason")];

test("authorize: GitHub's URL with client id, redirect URI, scopes, an encrypted state and a PKCE S256 challenge", async () => {
  const alice = await createSignedInUser(pool);
  const url = await authorize(alice);
  assert.equal(`${url.origin}${url.pathname}`, `${env.GITHUB_OAUTH_URL}/login/oauth/authorize`);
  const query = url.searchParams;
  assert.equal(query.get("response_type"), "code");
  assert.equal(query.get("client_id"), env.GITHUB_CLIENT_ID);
  assert.equal(query.get("redirect_uri"), `${env.SUPABASE_URL}/functions/v1/api/connections/github/callback`);
  assert.equal(query.get("scope"), "repo admin:repo_hook");
  assert.equal(query.get("code_challenge_method"), "S256");
  assert.match(query.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
  const state = query.get("state") ?? "";
  const parts = state.split(".");
  assert.equal(parts.length, 5, "the state is a compact JWE");
  const header = JSON.parse(Buffer.from(parts[0], "base64url").toString());
  assert.equal(header.alg, "dir");
  assert.equal(header.enc, "A256GCM");
  assert.doesNotMatch(Buffer.from(parts[3], "base64url").toString("latin1"), new RegExp(alice.id), "unreadable");

  const unauthenticated = await call("/connections/github/authorize", null, { method: "POST" });
  assert.equal(unauthenticated.status, 401);
  const unknown = await call("/connections/nope/authorize", alice.token, { method: "POST" });
  assert.equal(unknown.status, 404);
  assert.equal(await errorCode(unknown), "not_found");
  const noOAuth = await call("/connections/http/authorize", alice.token, { method: "POST" });
  assert.equal(noOAuth.status, 422);
  assert.equal(await errorCode(noOAuth), "oauth2_not_supported");
});

test("callback: the code is exchanged with PKCE, the account read, the token stored encrypted", async () => {
  const alice = await createSignedInUser(pool);
  oauth.account = { id: 583231, login: "octocat", email: "octocat@github.com" };
  const outcome = await connect(alice);
  assert.equal(outcome.get("status"), "connected", outcome.toString());
  assert.equal(outcome.get("service"), "github");
  const id = outcome.get("connection");

  const exchange = oauth.tokenRequests.at(-1)!;
  assert.equal(exchange.grant_type, "authorization_code");
  assert.equal(exchange.client_id, env.GITHUB_CLIENT_ID, "client_secret_post, as GitHub documents");
  assert.equal(exchange.client_secret, env.GITHUB_CLIENT_SECRET);
  assert.match(String(exchange.code_verifier), /^[A-Za-z0-9_-]{43}$/, "the verifier came back from the state");
  assert.equal(exchange.redirect_uri, `${env.SUPABASE_URL}/functions/v1/api/connections/github/callback`);
  const identity = api.requests.findLast((r) => r.url === "/user")!;
  assert.equal(identity.headers.accept, "application/vnd.github+json");
  assert.equal(identity.headers["x-github-api-version"], "2022-11-28");

  const [row] = await connections(alice.id);
  assert.equal(row.id, id);
  assert.deepEqual(
    [row.provider_account_id, row.provider_login, row.provider_email, row.scopes, row.status],
    ["583231", "octocat", "octocat@github.com", ["repo", "admin:repo_hook"], "active"],
  );
  const token = lastTokenSeenByApi();
  assert.ok(!row.ciphertext.includes(token), "the stored credential is not the token");
  assert.ok(!Buffer.from(row.ciphertext, "base64").toString("latin1").includes(token.slice(0, 20)));
  const stored = JSON.parse(await unseal(await loadKeyring(env.AREA_ENCRYPTION_KEY), row.key_id, row.ciphertext));
  assert.deepEqual(stored, { access_token: token, token_type: "bearer" }, "the worker's credentials");

  const listed = await call("/connections", alice.token);
  assert.equal(listed.status, 200);
  const text = await listed.text();
  const { items } = JSON.parse(text);
  assert.deepEqual(items.map((item: Record<string, unknown>) => Object.keys(item).sort()), [[
    "created_at",
    "id",
    "label",
    "last_error",
    "provider_account_id",
    "provider_email",
    "provider_login",
    "scopes",
    "service",
    "status",
    "token_expires_at",
  ]]);
  assert.deepEqual([items[0].id, items[0].service, items[0].provider_login], [id, "github", "octocat"]);
  assert.ok(!text.includes(token) && !text.includes(row.ciphertext), "no credential in the listing");
  assert.equal((await call("/connections", null)).status, 401);

  const services = await call("/services", alice.token);
  const { items: catalogue } = await services.json() as { items: Record<string, unknown>[] };
  const github = catalogue.find((service) => service.key === "github")!;
  assert.deepEqual([github.auth_kind, github.available, github.connected], ["oauth2", true, true]);
});

test("reconnecting the same account refreshes the token and makes the connection active again", async () => {
  const alice = await createSignedInUser(pool);
  oauth.account = { id: 1001, login: "ada", email: null };
  const first = await connect(alice);
  await pool.query(
    "update public.user_services set status = 'needs_reconnect', last_error = 'GitHub refused the token' where id = $1",
    [first.get("connection")],
  );
  const [before] = await connections(alice.id);
  oauth.account = { id: 1001, login: "ada-renamed", email: "ada@example.com" };
  const second = await connect(alice);
  assert.equal(second.get("connection"), first.get("connection"), "one connection per provider account");
  const rows = await connections(alice.id);
  assert.equal(rows.length, 1);
  assert.deepEqual([rows[0].status, rows[0].last_error, rows[0].provider_login], ["active", null, "ada-renamed"]);
  assert.notEqual(rows[0].ciphertext, before.ciphertext, "new tokens stored");

  oauth.account = { id: 1002, login: "ada-work", email: null };
  const other = await connect(alice);
  assert.notEqual(other.get("connection"), first.get("connection"), "another account is another connection");
  assert.equal((await connections(alice.id)).length, 2);
});

test("a state is used once: replaying the callback stores nothing more", async () => {
  const alice = await createSignedInUser(pool);
  const back = await consent(await authorize(alice));
  assert.equal((await callback(back)).get("status"), "connected");
  const exchanges = oauth.tokenRequests.length;
  assert.deepEqual(failure(await callback(back)), ["error", "state_reused"]);
  assert.equal(oauth.tokenRequests.length, exchanges, "the replayed code was never sent to the provider");
  assert.equal((await connections(alice.id)).length, 1);
});

test("tampered, foreign, expired, missing and misdirected states are refused, nothing stored", async () => {
  const alice = await createSignedInUser(pool);
  const back = await consent(await authorize(alice));
  const state = back.searchParams.get("state")!;
  const parts = state.split(".");
  const flip = (text: string) => text.slice(0, 10) + (text[10] === "A" ? "B" : "A") + text.slice(11);
  const withState = (value: string | null, path = back.pathname) => {
    const url = new URL(back);
    url.pathname = path;
    if (value === null) url.searchParams.delete("state");
    else url.searchParams.set("state", value);
    return url;
  };
  // The same claims the api seals (routes/connections.ts), under a key of our choosing.
  const mint = async (key: Uint8Array, kid: string, expiresAt: number, userId = alice.id) =>
    await new EncryptJWT({ svc: "github", cv: "v".repeat(43) })
      .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid })
      .setSubject(userId)
      .setAudience("area:oauth2-state")
      .setJti(crypto.randomUUID())
      .setIssuedAt(expiresAt - 600)
      .setExpirationTime(expiresAt)
      .encrypt(key);
  const derived = await deriveKeys(env.AREA_ENCRYPTION_KEY, "area/oauth2-state/v1");
  const realKey = derived.keys.get(derived.currentKeyId)!;
  const now = Math.floor(Date.now() / 1000);

  assert.deepEqual(failure(await callback(withState([...parts.slice(0, 3), flip(parts[3]), parts[4]].join(".")))), [
    "error",
    "invalid_state",
  ]);
  assert.deepEqual(failure(await callback(withState([...parts.slice(0, 4), flip(parts[4])].join(".")))), [
    "error",
    "invalid_state",
  ]);
  assert.deepEqual(failure(await callback(withState("not-a-state"))), ["error", "invalid_state"]);
  assert.deepEqual(failure(await callback(withState(null))), ["error", "invalid_state"]);
  const foreignKey = crypto.getRandomValues(new Uint8Array(32));
  assert.deepEqual(failure(await callback(withState(await mint(foreignKey, derived.currentKeyId, now + 600)))), [
    "error",
    "invalid_state",
  ]);
  assert.deepEqual(failure(await callback(withState(await mint(realKey, derived.currentKeyId, now - 5)))), [
    "error",
    "expired_state",
  ]);
  // Another service's callback does not take GitHub's state.
  assert.deepEqual(failure(await callback(withState(state, back.pathname.replace("/github/", "/http/")))), [
    "error",
    "invalid_state",
  ]);
  assert.equal((await connections(alice.id)).length, 0);
  // The genuine state still works once: the refusals above did not use it.
  assert.equal((await callback(back)).get("status"), "connected");
});

test("the PKCE verifier comes from the state: a state carrying another verifier fails the exchange", async () => {
  const alice = await createSignedInUser(pool);
  const back = await consent(await authorize(alice));
  const derived = await deriveKeys(env.AREA_ENCRYPTION_KEY, "area/oauth2-state/v1");
  const forged = await new EncryptJWT({ svc: "github", cv: "w".repeat(43) })
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: derived.currentKeyId })
    .setSubject(alice.id)
    .setAudience("area:oauth2-state")
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime("10m")
    .encrypt(derived.keys.get(derived.currentKeyId)!);
  back.searchParams.set("state", forged);
  assert.deepEqual(failure(await callback(back)), ["error", "exchange_failed"], "GitHub checks the challenge");
  assert.equal((await connections(alice.id)).length, 0);
});

test("a state belongs to the user who asked for it: the connection is theirs, never the browser's", async () => {
  const alice = await createSignedInUser(pool);
  const bob = await createSignedInUser(pool);
  oauth.account = { id: 4242, login: "alice-gh", email: null };
  // Bob's browser ends Alice's flow (a link she sent him): the account is connected to Alice.
  const outcome = await connect(alice);
  assert.equal(outcome.get("status"), "connected");
  assert.equal((await connections(alice.id)).length, 1);
  assert.equal((await connections(bob.id)).length, 0);
  const listed = await (await call("/connections", bob.token)).json() as { items: unknown[] };
  assert.deepEqual(listed.items, []);
  const stolen = await call(`/connections/${outcome.get("connection")}`, bob.token, { method: "DELETE" });
  assert.equal(stolen.status, 404, "another user's connection does not exist for Bob");
  assert.equal((await connections(alice.id)).length, 1);
});

test("a user who refuses consent, a failed exchange or account lookup: an error reason, nothing stored", async () => {
  const alice = await createSignedInUser(pool);
  oauth.denyNext();
  const denied = await consent(await authorize(alice));
  assert.equal(denied.searchParams.get("error"), "access_denied");
  assert.deepEqual(failure(await callback(denied)), ["error", "access_denied"]);

  oauth.failNextExchange({ error: "bad_verification_code" });
  assert.deepEqual(failure(await connect(alice)), ["error", "exchange_failed"]);
  oauth.failNextExchange({ status: 500 });
  assert.deepEqual(failure(await connect(alice)), ["error", "exchange_failed"]);

  api.rateLimit({ status: 403, retryAfter: 60 });
  assert.deepEqual(failure(await connect(alice)), ["error", "identity_failed"]);

  const back = await consent(await authorize(alice));
  back.searchParams.delete("code");
  assert.deepEqual(failure(await callback(back)), ["error", "missing_code"]);
  assert.equal((await connections(alice.id)).length, 0);
  const { rows: [{ count }] } = await pool.query(
    "select count(*)::int as count from public.audit_logs where owner_id = $1 and table_name = 'user_services'",
    [alice.id],
  );
  assert.equal(count, 0, "no connection was ever written");
});

test("DELETE revokes the token at GitHub, deletes the connection and pauses its AREAs with a reason", async () => {
  const alice = await createSignedInUser(pool);
  const bob = await createSignedInUser(pool);
  oauth.account = { id: 777, login: "deleter", email: null };
  const id = (await connect(alice)).get("connection")!;
  const token = lastTokenSeenByApi();
  const area = await createArea(pool, alice.id, {
    name: "Issues from webhooks",
    enabled: true,
    action: { service: "webhook", name: "received", params: {} },
    reactions: [{
      service: "github",
      name: "create_issue",
      connection_id: id,
      params: { repository: "octo/hello", title: "{{body.title}}" },
    }],
  });

  assert.equal((await call(`/connections/${id}`, bob.token, { method: "DELETE" })).status, 404);
  assert.equal((await call(`/connections/${crypto.randomUUID()}`, alice.token, { method: "DELETE" })).status, 404);
  assert.equal((await call("/connections/not-a-uuid", alice.token, { method: "DELETE" })).status, 404);
  assert.equal((await call(`/connections/${id}`, null, { method: "DELETE" })).status, 401);
  assert.ok(!api.revoked.includes(token));

  const deleted = await call(`/connections/${id}`, alice.token, { method: "DELETE" });
  assert.equal(deleted.status, 204);
  assert.ok(api.revoked.includes(token), "DELETE /applications/{client_id}/token with the app's Basic credentials");
  const revocation = api.requests.findLast((r) => r.method === "DELETE")!;
  assert.equal(revocation.url, `/applications/${env.GITHUB_CLIENT_ID}/token`);
  assert.deepEqual(JSON.parse(revocation.body), { access_token: token });

  assert.deepEqual(await connections(alice.id), []);
  const { rows: [paused] } = await pool.query("select enabled, paused_reason from public.areas where id = $1", [
    area.id,
  ]);
  assert.deepEqual(paused, { enabled: false, paused_reason: "its connection was deleted" });
  const { rows: [{ count }] } = await pool.query(
    "select count(*)::int as count from private.user_service_credentials where user_service_id = $1",
    [id],
  );
  assert.equal(count, 0);
  assert.equal((await call(`/connections/${id}`, alice.token, { method: "DELETE" })).status, 404);
});
