// OAuth2 token refresh (worker/src/refresh.ts) against the real stack, with GitHub played by a GitHub
// App whose user tokens expire: oauth2-mock-server as its token endpoint (tests/support/fakes/
// github_app_oauth.ts, rotating refresh tokens as GitHub does) and the REST fake, which accepts only
// live access tokens. Events run through the stack's worker process; the single-flight test drives
// two refreshers (two pools: two workers) directly. The fakes listen where scripts/test.ts told the
// stack they would (GITHUB_OAUTH_URL, GITHUB_API_URL).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { loadKeyring, seal, unseal } from "../packages/nodes/src/crypto.ts";
import type { ServiceDefinition } from "../packages/nodes/src/define.ts";
import { AuthError } from "../packages/nodes/src/errors.ts";
import type { Logger } from "../packages/nodes/src/log.ts";
import { enabledServices } from "../packages/nodes/src/registry.ts";
import { createArea, createUser, waitFor } from "../scripts/lib/areas.ts";
import { createRefresher } from "../worker/src/refresh.ts";
import { type FakeGithub, type GithubUser, startFakeGithub } from "./support/fakes/github.ts";
import { type FakeGithubAppOAuth, startFakeGithubAppOAuth, type TokenPair } from "./support/fakes/github_app_oauth.ts";

const env = process.env;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 });
const keyring = await loadKeyring(env.AREA_ENCRYPTION_KEY);
const github = enabledServices(env).find((service) => service.key === "github") as ServiceDefinition;
let oauth: FakeGithubAppOAuth;
let api: FakeGithub;

before(async () => {
  assert.ok(env.GITHUB_OAUTH_URL && env.GITHUB_API_URL, "run through npm test (provider env)");
  const client = { id: env.GITHUB_CLIENT_ID!, secret: env.GITHUB_CLIENT_SECRET! };
  oauth = await startFakeGithubAppOAuth({ port: Number(new URL(env.GITHUB_OAUTH_URL!).port), client });
  api = await startFakeGithub({
    port: Number(new URL(env.GITHUB_API_URL!).port),
    authenticate: (token) => oauth.tokenUser(token),
    client,
  });
});
after(async () => {
  await Promise.all([oauth?.close(), api?.close(), pool.end()]);
});

const account: GithubUser = { id: 9001, login: "refresher", email: null };
const HOUR = 3_600_000;

interface Connection {
  userId: string;
  id: string;
  tokens: TokenPair;
}

/** A GitHub connection as the OAuth2 callback stores it, its access token expiring `expiresInMs` from now. */
async function connect(expiresInMs: number): Promise<Connection> {
  const userId = await createUser(pool);
  const tokens = oauth.grant(account);
  const expiresAt = new Date(Date.now() + expiresInMs).toISOString();
  const sealed = await seal(keyring, JSON.stringify({ ...tokens, token_type: "bearer", expires_at: expiresAt }));
  const { rows: [{ id }] } = await pool.query(
    `select private.store_connection($1, 'github', $2, $3, null, '{repo}', $4, $5, $6) as id`,
    [userId, String(account.id), account.login, expiresAt, sealed.keyId, sealed.ciphertext],
  );
  return { userId, id, tokens };
}

async function stored(connectionId: string) {
  const { rows: [row] } = await pool.query(
    `select us.status, us.last_error, us.token_expires_at, c.key_id, c.ciphertext
     from public.user_services us join private.user_service_credentials c on c.user_service_id = us.id
     where us.id = $1`,
    [connectionId],
  );
  return { ...row, credentials: JSON.parse(await unseal(keyring, row.key_id, row.ciphertext)) };
}

/** An enabled AREA: a webhook event opens an issue with the connection. */
async function issueArea(connection: Connection) {
  return await createArea(pool, connection.userId, {
    name: "Issues from events",
    enabled: true,
    action: { service: "webhook", name: "received", params: {} },
    reactions: [{
      service: "github",
      name: "create_issue",
      connection_id: connection.id,
      params: { repository: "octo/hello", title: "{{body.title}}" },
    }],
  });
}

/** Stores an event as the webhooks function does; the stack's worker runs it. */
async function ingest(hookJobId: string, title: string): Promise<string> {
  const { rows: [{ result }] } = await pool.query("select private.ingest_event($1, $2, $3) as result", [
    hookJobId,
    crypto.randomUUID(),
    JSON.stringify({ body: { title }, headers: {}, query: {} }),
  ]);
  assert.equal(result.status, "accepted");
  return result.hook_log_id;
}

/** The reaction's execution rows (attempt, status, error) once the event is processed. */
function settled(hookLogId: string, timeoutMs = 30_000) {
  return waitFor(`event ${hookLogId} to be processed`, async () => {
    const { rows } = await pool.query(
      `select e.status, e.attempt, e.error_text, l.processed
       from public.hook_logs l join public.execution_logs e on e.hook_log_id = l.id
       where l.id = $1 and e.area_reaction_id is not null order by e.attempt`,
      [hookLogId],
    );
    return rows.length > 0 && rows[0].processed ? rows : undefined;
  }, timeoutMs);
}

/** The bearer tokens of the issue requests GitHub received with this title, in order. */
function issueTokens(title: string): string[] {
  return api.requests
    .filter((request) => request.method === "POST" && request.url === "/repos/octo/hello/issues")
    .filter((request) => JSON.parse(request.body).title === title)
    .map((request) => String(request.headers.authorization).replace(/^Bearer /, ""));
}

function recordingLogger(lines: string[]): Logger {
  const write = (msg: string) => void lines.push(msg);
  const logger: Logger = { debug: write, info: write, warn: write, error: write, child: () => logger };
  return logger;
}

const refresher = (database: pg.Pool) =>
  createRefresher({ pool: database, keyring, fetch: (input, init) => fetch(input, init), env });

test("a token expiring within 5 minutes is refreshed before the reaction runs, rotating the refresh token", async () => {
  const connection = await connect(60_000);
  const area = await issueArea(connection);
  const requestsBefore = oauth.refreshRequests.length;
  const rows = await settled(await ingest(area.hook.id, "ahead of expiry"));
  assert.deepEqual(rows.map((row) => [row.status, row.attempt]), [["success", 1]]);

  assert.deepEqual(oauth.refreshRequests.slice(requestsBefore), [{
    grant_type: "refresh_token",
    refresh_token: connection.tokens.refresh_token,
    client_id: env.GITHUB_CLIENT_ID,
    client_secret: env.GITHUB_CLIENT_SECRET,
  }], "one refresh, as GitHub documents it");
  const now = await stored(connection.id);
  assert.equal(now.status, "active");
  assert.notEqual(now.credentials.access_token, connection.tokens.access_token);
  assert.notEqual(now.credentials.refresh_token, connection.tokens.refresh_token, "GitHub's new refresh token kept");
  assert.equal(oauth.tokenUser(now.credentials.access_token)?.login, account.login, "a live token");
  const expiresIn = now.token_expires_at.getTime() - Date.now();
  assert.ok(expiresIn > 7.9 * HOUR && expiresIn <= 8 * HOUR, `token_expires_at in 8 h (${expiresIn} ms)`);
  assert.equal(now.credentials.expires_at, now.token_expires_at.toISOString());
  assert.deepEqual(issueTokens("ahead of expiry"), [now.credentials.access_token], "the old token was never sent");
});

test("a 401 refreshes the token once and runs the reaction once more, which succeeds", async () => {
  const connection = await connect(HOUR);
  oauth.expire(connection.tokens.access_token); // GitHub ended it early: only the 401 tells
  const area = await issueArea(connection);
  const requestsBefore = oauth.refreshRequests.length;
  const rows = await settled(await ingest(area.hook.id, "after a 401"));
  assert.deepEqual(rows.map((row) => [row.status, row.attempt]), [["success", 1]], "within the same attempt");

  const now = await stored(connection.id);
  assert.equal(oauth.refreshRequests.length - requestsBefore, 1);
  assert.deepEqual(issueTokens("after a 401"), [connection.tokens.access_token, now.credentials.access_token]);
  assert.equal(api.issues.filter((issue) => issue.title === "after a 401").length, 1, "one issue opened");
  assert.equal(now.status, "active");
});

test("two workers refreshing one connection at once: ONE token request, both get the new token", async () => {
  const connection = await connect(60_000);
  const workers = [
    new pg.Pool({ connectionString: env.DATABASE_URL, max: 1 }),
    new pg.Pool({
      connectionString: env.DATABASE_URL,
      max: 1,
    }),
  ];
  const holder = await pool.connect();
  try {
    // Both refreshers must be inside at once: the test holds the connection's lock until both wait for it.
    await holder.query("begin");
    await holder.query("select * from private.lock_connection_credentials($1)", [connection.id]);
    const requestsBefore = oauth.refreshRequests.length;
    const logs: string[][] = [[], []];
    const refreshes = workers.map((database, index) =>
      refresher(database).credentials(github, connection.id, recordingLogger(logs[index]))
    );
    await waitFor("both refreshers to wait for the connection's lock", async () => {
      const { rows: [{ waiting }] } = await pool.query(
        `select count(*)::int as waiting from pg_locks
         where locktype = 'advisory' and not granted and objsubid = 2
           and classid = hashtext('private.lock_connection_credentials')::oid and objid = hashtext($1)::oid`,
        [connection.id],
      );
      return waiting === 2;
    }, 10_000);
    assert.equal(oauth.refreshRequests.length, requestsBefore, "nobody asked GitHub while the lock was held");
    await holder.query("commit");
    const [first, second] = await Promise.all(refreshes);

    assert.equal(oauth.refreshRequests.length - requestsBefore, 1, "exactly one token request at GitHub");
    assert.equal(first!.access_token, second!.access_token);
    assert.notEqual(first!.access_token, connection.tokens.access_token);
    assert.equal((await stored(connection.id)).credentials.access_token, first!.access_token);
    assert.deepEqual(logs.flat().sort(), ["access token already refreshed", "access token refreshed"]);
  } finally {
    await holder.query("rollback").catch(() => {});
    holder.release();
    await Promise.all(workers.map((database) => database.end()));
  }
});

test("invalid_grant marks the connection needs_reconnect and pauses its AREA with a readable reason", async () => {
  const connection = await connect(60_000);
  const area = await issueArea(connection);
  // RFC 6749 §5.2's answer for a revoked or expired refresh token.
  oauth.failNextRefresh({
    status: 400,
    body: { error: "invalid_grant", error_description: "The refresh token was revoked" },
  });
  const requestsBefore = oauth.refreshRequests.length;
  const rows = await settled(await ingest(area.hook.id, "with a dead refresh token"));
  assert.deepEqual(rows.map((row) => [row.status, row.attempt]), [["failed", 1]], "not retried");
  assert.match(rows[0].error_text, /GitHub refused to renew the access token .*invalid_grant/);
  assert.equal(oauth.refreshRequests.length - requestsBefore, 1);
  assert.deepEqual(issueTokens("with a dead refresh token"), [], "the reaction never ran");

  const now = await stored(connection.id);
  assert.equal(now.status, "needs_reconnect");
  assert.match(
    now.last_error,
    /^GitHub refused to renew the access token \(.*invalid_grant \(The refresh token was revoked\)\)$/,
  );
  assert.equal(now.credentials.refresh_token, connection.tokens.refresh_token, "the tokens were left as they were");
  const { rows: [paused] } = await pool.query("select enabled, paused_reason from public.areas where id = $1", [
    area.id,
  ]);
  assert.equal(paused.enabled, false);
  assert.equal(
    paused.paused_reason,
    `its connection was refused by the provider (${now.last_error}): reconnect the account, then enable the AREA`,
  );
});

test("GitHub's bad_refresh_token (status 200) is a dead refresh token too", async () => {
  const connection = await connect(60_000);
  // Used once elsewhere: GitHub rotated it, so this one is dead.
  const rotated = await fetch(`${env.GITHUB_OAUTH_URL}/login/oauth/access_token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: connection.tokens.refresh_token,
      client_id: env.GITHUB_CLIENT_ID!,
      client_secret: env.GITHUB_CLIENT_SECRET!,
    }),
  });
  assert.ok((await rotated.json() as TokenPair).refresh_token, "GitHub rotated it");
  const lines: string[] = [];
  await assert.rejects(
    refresher(pool).credentials(github, connection.id, recordingLogger(lines)),
    (error) => error instanceof AuthError && /bad_refresh_token/.test(error.message),
  );
  const now = await stored(connection.id);
  assert.equal(now.status, "needs_reconnect");
  assert.match(now.last_error, /bad_refresh_token \(The refresh token passed is incorrect or expired\.\)/);
});

test("a 503 from the token endpoint: the job retries later, the connection stays active", async () => {
  const connection = await connect(-60_000); // already expired: the run cannot go on with it
  const area = await issueArea(connection);
  oauth.failNextRefresh({ status: 503 });
  const requestsBefore = oauth.refreshRequests.length;
  const hookLogId = await ingest(area.hook.id, "after a 503");
  const firstAttempt = await waitFor("the first attempt to fail", async () => {
    const { rows: [row] } = await pool.query(
      `select e.status, e.error_text, us.status as connection_status
       from public.execution_logs e, public.user_services us
       where e.hook_log_id = $1 and e.area_reaction_id is not null and e.attempt = 1 and us.id = $2`,
      [hookLogId, connection.id],
    );
    return row;
  });
  assert.equal(firstAttempt.status, "failed");
  assert.match(firstAttempt.error_text, /GitHub: refreshing the token failed: .*status 503/);
  assert.equal(firstAttempt.connection_status, "active");

  const rows = await settled(hookLogId, 60_000);
  assert.deepEqual(rows.map((row) => [row.status, row.attempt]), [["success", 2]], "the retry succeeded");
  assert.equal(oauth.refreshRequests.length - requestsBefore, 2, "the retry refreshed");
  const now = await stored(connection.id);
  assert.equal(now.status, "active");
  assert.deepEqual(issueTokens("after a 503"), [now.credentials.access_token]);
  const { rows: [still] } = await pool.query("select enabled from public.areas where id = $1", [area.id]);
  assert.equal(still.enabled, true);
});

test("a token still valid for minutes serves the run when the token endpoint is briefly down", async () => {
  const connection = await connect(3 * 60_000);
  oauth.failNextRefresh({ status: 503 });
  const lines: string[] = [];
  const credentials = await refresher(pool).credentials(github, connection.id, recordingLogger(lines));
  assert.equal(credentials!.access_token, connection.tokens.access_token);
  assert.deepEqual(lines, ["access token refresh failed; using the current token until it expires"]);
  assert.equal((await stored(connection.id)).status, "active");
});

test("a connection without a refresh token (a GitHub OAuth app) is not refreshed after a 401", async () => {
  const userId = await createUser(pool);
  const sealed = await seal(keyring, JSON.stringify({ access_token: "gho_plain", token_type: "bearer" }));
  const { rows: [{ id }] } = await pool.query(
    `select private.store_connection($1, 'github', '77', 'plain', null, '{repo}', null, $2, $3) as id`,
    [userId, sealed.keyId, sealed.ciphertext],
  );
  const requestsBefore = oauth.refreshRequests.length;
  const lines: string[] = [];
  const renewed = await refresher(pool).afterRejection(
    github,
    id,
    { access_token: "gho_plain" },
    recordingLogger(lines),
  );
  assert.equal(renewed, null, "the 401 stands: the caller marks the connection needs_reconnect");
  assert.equal(oauth.refreshRequests.length, requestsBefore);
});
