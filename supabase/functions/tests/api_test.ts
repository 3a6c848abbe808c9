// The api function through the local gateway, as a frontend calls it: AREAs, runs through the
// real queue and worker, the catalogue, the OpenAPI document, and hostile input (tokens, bodies,
// other users' ids). Every refusal is checked against the row counts too: nothing is stored.
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import postgres from "postgres";
import { accessToken } from "../../../scripts/lib/keys.ts";
import { keysFromEnv, verifyAccessToken } from "../_shared/auth.ts";

const functionsUrl = Deno.env.get("FUNCTIONS_URL") ?? "";
const supabaseUrl = Deno.env.get("SUPABASE_URL") ?? "";
const jwtSecret = Deno.env.get("SUPABASE_JWT_SECRET") ?? "";
// DATABASE_URL, not SUPABASE_DB_URL: another suite of this run points that one at a closed port.
const sql = postgres(Deno.env.get("DATABASE_URL") ?? "", { max: 2, onnotice: () => {} });
Deno.test.afterAll(() => sql.end());

function apiTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });
}

interface User {
  id: string;
  token: string;
}

async function newUser(): Promise<User> {
  if (!functionsUrl || !jwtSecret) throw new Error("FUNCTIONS_URL and SUPABASE_JWT_SECRET are not set: run npm test");
  const email = `api-${crypto.randomUUID()}@example.com`;
  const [{ id }] = await sql`insert into auth.users (email) values (${email}) returning id`;
  const token = await accessToken(jwtSecret, supabaseUrl, { id, email, appMetadata: {}, userMetadata: {} });
  return { id, token };
}

async function call(user: User | string | null, method: string, path: string, body?: unknown, headers = {}) {
  const token = typeof user === "string" ? user : user?.token;
  const response = await fetch(`${functionsUrl}/api${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null, text };
}

/** An HTTP receiver on loopback (allowed for the test stack): what the worker's http reaction sends. */
function receiver() {
  const requests: { key: string | null; body: string }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    requests.push({ key: request.headers.get("idempotency-key"), body: await request.text() });
    return new Response("ok");
  });
  return { url: `http://127.0.0.1:${server.addr.port}/hook`, requests, close: () => server.shutdown() };
}

function definition(url = "https://example.org/hook", name = "Push to chat") {
  return {
    name,
    action: { service: "webhook", name: "received", params: {} },
    reactions: [{ service: "http", name: "request", params: { url, method: "POST", body: '{"t":"{{body.text}}"}' } }],
  };
}

async function areaCount(user: User): Promise<number> {
  const [{ count }] = await sql`select count(*)::int as count from public.areas where user_id = ${user.id}`;
  return count;
}

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

apiTest("POST /api/areas creates the AREA as its caller and answers 201 with the webhook URL and secret", async () => {
  const ada = await newUser();
  const created = await call(ada, "POST", "/areas", definition());
  assert.equal(created.status, 201, created.text);
  assert.equal(created.headers.get("location"), `/api/areas/${created.body.id}`);
  assert.equal(created.body.name, "Push to chat");
  assert.equal(created.body.enabled, true);
  assert.deepEqual(created.body.action, {
    service: "webhook",
    name: "received",
    params: {},
    connection_id: null,
    polling_interval_seconds: null,
  });
  assert.match(created.body.webhook.secret, /^whsec_[0-9a-f]{64}$/);
  assert.equal(created.body.webhook.url, `${supabaseUrl}/functions/v1/webhooks/webhook/${created.body.hook.id}`);
  const [row] = await sql`select user_id from public.areas where id = ${created.body.id}`;
  assert.equal(row.user_id, ada.id);

  // Read back: the secret was shown once.
  const read = await call(ada, "GET", `/areas/${created.body.id}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.webhook.secret, null);
  assert.equal(read.body.webhook.url, created.body.webhook.url);
});

apiTest(
  "invalid definitions get 422 with every field path, from the catalogue checks and from SQL, storing nothing",
  async () => {
    const ada = await newUser();
    const unknown = await call(ada, "POST", "/areas", {
      name: "Bad",
      action: { service: "webhook", name: "nope", params: {} },
      reactions: [{ service: "http", name: "request", params: { method: "POST", colour: "red" } }],
    });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.error.code, "validation_failed");
    assert.deepEqual(unknown.body.error.details.issues.map((issue: { path: string }) => issue.path), [
      "action.name",
      "reactions[0].params.url",
      "reactions[0].params",
    ]);
    assert.match(unknown.body.error.details.issues[0].message, /webhook has no action "nope" \(actions: received\)/);

    const shape = await call(ada, "POST", "/areas", { name: "", action: {}, reactions: [] });
    assert.equal(shape.status, 422);
    const paths = shape.body.error.details.issues.map((issue: { path: string }) => issue.path);
    for (const path of ["name", "action.service", "action.name", "reactions"]) assert.ok(paths.includes(path), path);

    const badUrl = await call(ada, "POST", "/areas", definition("ftp://example.org/x"));
    assert.equal(badUrl.status, 422);
    assert.equal(badUrl.body.error.message, "reactions[0].params.url: must be an http(s) URL");
    assert.deepEqual(badUrl.body.error.details, {
      issues: [{ path: "reactions[0].params.url", rule: "invalid_value", message: "must be an http(s) URL" }],
    });

    // An action's params also meet the node's own schema: a cron expression that can never run.
    const cron = await call(ada, "POST", "/areas", {
      ...definition(),
      action: { service: "timer", name: "cron", params: { expression: "99 * * * *", timezone: "Mars/Olympus" } },
    });
    assert.equal(cron.status, 422, cron.text);
    assert.deepEqual(cron.body.error.details.issues.map((issue: { path: string }) => issue.path).sort(), [
      "action.params.expression",
      "action.params.timezone",
    ]);

    const placeholder = definition();
    placeholder.reactions[0].params.body = "{{nothing.here}}";
    const undeclared = await call(ada, "POST", "/areas", placeholder);
    assert.equal(undeclared.status, 422);
    assert.match(undeclared.body.error.message, /^reactions\[0\]\.params\.body: /);
    assert.equal(await areaCount(ada), 0);
  },
);

apiTest("GET /api/areas pages newest first with a cursor that neither repeats nor skips", async () => {
  const ada = await newUser();
  const ids: string[] = [];
  for (const name of ["one", "two", "three"]) {
    ids.push((await call(ada, "POST", "/areas", definition(undefined, name))).body.id);
  }
  const first = await call(ada, "GET", "/areas?limit=2");
  assert.equal(first.status, 200);
  assert.deepEqual(first.body.items.map((area: { name: string }) => area.name), ["three", "two"]);
  assert.equal(typeof first.body.next_cursor, "string");
  const second = await call(ada, "GET", `/areas?limit=2&cursor=${first.body.next_cursor}`);
  assert.deepEqual(second.body.items.map((area: { id: string }) => area.id), [ids[0]]);
  assert.equal(second.body.next_cursor, null);

  assert.equal((await call(ada, "GET", "/areas?limit=0")).status, 422);
  assert.equal((await call(ada, "GET", "/areas?limit=101")).status, 422);
  const garbage = await call(ada, "GET", "/areas?cursor=bm9wZQ");
  assert.equal(garbage.status, 400);
  assert.equal(garbage.body.error.code, "invalid_cursor");
});

apiTest("PATCH, disable, enable and DELETE change only the caller's AREA", async () => {
  const ada = await newUser();
  const { body: area } = await call(ada, "POST", "/areas", definition());
  const renamed = await call(ada, "PATCH", `/areas/${area.id}`, { name: "Renamed", description: "now with text" });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.body.name, "Renamed");
  assert.equal(renamed.body.description, "now with text");
  assert.deepEqual(renamed.body.reactions, area.reactions);

  const empty = await call(ada, "PATCH", `/areas/${area.id}`, {});
  assert.equal(empty.status, 422);

  const disabled = await call(ada, "POST", `/areas/${area.id}/disable`);
  assert.equal(disabled.body.enabled, false);
  assert.equal(disabled.body.hook.status, "paused");
  const enabled = await call(ada, "POST", `/areas/${area.id}/enable`);
  assert.equal(enabled.body.enabled, true);
  assert.equal(enabled.body.hook.status, "active");

  const deleted = await call(ada, "DELETE", `/areas/${area.id}`);
  assert.equal(deleted.status, 204);
  assert.equal((await call(ada, "GET", `/areas/${area.id}`)).status, 404);
  assert.equal(await areaCount(ada), 0);
});

apiTest(
  "a test run and replays go through the queue and the worker; replay without force skips what succeeded",
  async () => {
    const target = receiver();
    try {
      const ada = await newUser();
      const { body: area } = await call(ada, "POST", "/areas", definition(target.url));
      const settled = (id: string) =>
        waitFor(`execution ${id}`, async () => {
          const { body } = await call(ada, "GET", `/executions/${id}`);
          return body.settled && body;
        });

      const test = await call(ada, "POST", `/areas/${area.id}/test`, { payload: { body: { text: "hello" } } });
      assert.equal(test.status, 202, test.text);
      assert.equal(test.headers.get("location"), `/api/executions/${test.body.execution_id}`);
      const run = await settled(test.body.execution_id);
      assert.equal(run.origin, "test");
      assert.equal(run.status, "success");
      assert.equal(run.reactions.length, 1);
      assert.equal(run.reactions[0].status, "success");
      assert.deepEqual(target.requests.map((r) => r.body), ['{"t":"hello"}']);
      const key = target.requests[0].key;
      assert.equal(key, `${run.id}:${run.reactions[0].area_reaction_id}`);

      // Without a payload, the action's sample from the catalogue is used.
      const sampled = await settled((await call(ada, "POST", `/areas/${area.id}/test`)).body.execution_id);
      assert.equal((sampled.event as { body: { text: string } }).body.text, "Hello from a webhook");
      assert.equal(target.requests.length, 2);

      const again = await call(ada, "POST", `/executions/${run.id}/replay`);
      assert.equal(again.status, 202);
      assert.equal(again.body.execution_id, run.id);
      const replayed = await settled(run.id);
      assert.equal(replayed.status, "success");
      assert.equal(target.requests.length, 2, "the reaction that succeeded was not run again");

      const forced = await call(ada, "POST", `/executions/${run.id}/replay`, { force: true });
      assert.equal(forced.status, 202);
      assert.notEqual(forced.body.execution_id, run.id);
      const copy = await settled(forced.body.execution_id);
      assert.equal(copy.origin, "replay");
      assert.deepEqual(copy.event, run.event);
      assert.equal(target.requests.length, 3);
      assert.notEqual(target.requests[2].key, key, "a forced replay has idempotency keys of its own");

      const history = await call(ada, "GET", `/areas/${area.id}/executions?limit=2`);
      assert.equal(history.status, 200);
      assert.deepEqual(history.body.items.map((e: { id: string }) => e.id), [copy.id, sampled.id]);
      const rest = await call(ada, "GET", `/areas/${area.id}/executions?limit=2&cursor=${history.body.next_cursor}`);
      assert.deepEqual(rest.body.items.map((e: { id: string }) => e.id), [run.id]);
    } finally {
      await target.close();
    }
  },
);

apiTest("a replay of an execution that has not finished is a 409; a test run of an incomplete AREA a 422", async () => {
  const ada = await newUser();
  const { body: area } = await call(ada, "POST", "/areas", definition());
  const [{ id }] = await sql`
    insert into public.hook_logs (hook_job_id, area_id, dedupe_key, event_payload)
    values (${area.hook.id}, ${area.id}, 'pending-one', '{}') returning id`;
  const replay = await call(ada, "POST", `/executions/${id}/replay`);
  assert.equal(replay.status, 409);
  assert.equal(replay.body.error.code, "conflict");

  const draft = await sql.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true),
                    set_config('request.jwt.claims', ${JSON.stringify({ sub: ada.id, role: "authenticated" })}, true)`;
    const [{ id }] = await tx`insert into public.areas (name, enabled) values ('draft', false) returning id`;
    return id;
  });
  const test = await call(ada, "POST", `/areas/${draft}/test`);
  assert.equal(test.status, 404, "a draft without an action has no hook job to run on");
  const [{ count }] = await sql`select count(*)::int as count from public.hook_logs where area_id = ${draft}`;
  assert.equal(count, 0);
});

apiTest("every :id route answers 404 for another user's AREA or execution, and changes nothing", async () => {
  const ada = await newUser();
  const eve = await newUser();
  const { body: area } = await call(ada, "POST", "/areas", definition());
  const [{ id: execution }] = await sql`
    insert into public.hook_logs (hook_job_id, area_id, dedupe_key, event_payload, processed, processed_at)
    values (${area.hook.id}, ${area.id}, 'done', '{}', true, now()) returning id`;
  const probes: [string, string, unknown?][] = [
    ["GET", `/areas/${area.id}`],
    ["PATCH", `/areas/${area.id}`, { name: "mine now" }],
    ["DELETE", `/areas/${area.id}`],
    ["POST", `/areas/${area.id}/enable`],
    ["POST", `/areas/${area.id}/disable`],
    ["POST", `/areas/${area.id}/test`],
    ["GET", `/areas/${area.id}/executions`],
    ["GET", `/executions/${execution}`],
    ["POST", `/executions/${execution}/replay`, { force: true }],
  ];
  for (const [method, path, body] of probes) {
    const response = await call(eve, method, path, body);
    assert.equal(response.status, 404, `${method} ${path}: ${response.text}`);
    assert.equal(response.body.error.code, "not_found");
  }
  const after = await call(ada, "GET", `/areas/${area.id}`);
  assert.equal(after.body.name, area.name);
  assert.equal(after.body.enabled, true);
  const [{ count }] = await sql`select count(*)::int as count from public.hook_logs where area_id = ${area.id}`;
  assert.equal(count, 1);
  assert.equal((await call(eve, "GET", "/areas")).body.items.length, 0);
  assert.equal((await call(eve, "GET", "/areas/not-a-uuid")).status, 404);
});

apiTest("bad, expired, unsigned and non-user tokens are refused with 401 before anything runs", async () => {
  const ada = await newUser();
  const secret = new TextEncoder().encode(jwtSecret);
  const claims = { sub: ada.id, role: "authenticated", aud: "authenticated" };
  const sign = (payload: Record<string, unknown>, key = secret, expires = "1h") =>
    new SignJWT(payload).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime(expires).sign(key);
  const cases: [string, string | null, string][] = [
    ["no token", null, "missing_token"],
    ["not a JWT", "garbage", "invalid_token"],
    ["expired", await sign(claims, secret, "-10m"), "token_expired"],
    ["alg none", new UnsecuredJWT(claims).setIssuedAt().setExpirationTime("1h").encode(), "invalid_token"],
    [
      "another secret",
      await sign(claims, new TextEncoder().encode("not-the-project-secret-at-all-00")),
      "invalid_token",
    ],
    ["wrong audience", await sign({ ...claims, aud: "someone-else" }), "invalid_token"],
    ["anon key", Deno.env.get("SUPABASE_ANON_KEY") ?? "", "invalid_token"],
    ["service role key", Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ?? "", "invalid_token"],
    ["no subject", await sign({ role: "authenticated", aud: "authenticated" }), "invalid_token"],
  ];
  for (const [name, token, code] of cases) {
    const response = await call(token, "POST", "/areas", definition());
    assert.equal(response.status, 401, `${name}: ${response.text}`);
    assert.equal(response.body.error.code, code, name);
    assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="area"', name);
  }
  assert.equal(await areaCount(ada), 0);
});

apiTest("malformed, oversized and non-JSON bodies and unknown methods get 400, 413, 415 and 405", async () => {
  const ada = await newUser();
  const malformed = await call(ada, "POST", "/areas", "{not json");
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.error.code, "bad_request");
  const big = await call(ada, "POST", "/areas", JSON.stringify({ name: "x".repeat(300 * 1024) }));
  assert.equal(big.status, 413);
  assert.equal(big.body.error.details.limit_bytes, 256 * 1024);
  const form = await fetch(`${functionsUrl}/api/areas`, {
    method: "POST",
    headers: { authorization: `Bearer ${ada.token}`, "content-type": "application/x-www-form-urlencoded" },
    body: "name=x",
  });
  assert.equal(form.status, 415);
  assert.equal((await form.json()).error.code, "unsupported_media_type");
  const put = await call(ada, "PUT", "/areas");
  assert.equal(put.status, 405);
  assert.deepEqual(put.headers.get("allow")?.split(", ").sort(), ["GET", "HEAD", "POST"]);
  const unknownField = await call(ada, "POST", "/areas", { ...definition(), owner: "someone" });
  assert.equal(unknownField.status, 422);
  assert.equal(unknownField.body.error.details.issues[0].rule, "unrecognized_keys");
  assert.equal(await areaCount(ada), 0);
});

apiTest("GET /api/about.json follows the AREA convention from the live catalogue", async () => {
  const before = Math.floor(Date.now() / 1000);
  const about = await call(null, "GET", "/about.json");
  assert.equal(about.status, 200);
  assert.equal(about.body.client.host, "127.0.0.1");
  assert.ok(about.body.server.current_time >= before - 1 && about.body.server.current_time <= before + 5);
  const names = about.body.server.services.map((s: { name: string }) => s.name);
  for (const name of ["http", "timer", "webhook"]) assert.ok(names.includes(name), name);
  const webhook = about.body.server.services.find((s: { name: string }) => s.name === "webhook");
  assert.deepEqual(webhook.actions.map((a: { name: string }) => a.name), ["received"]);
  assert.equal(typeof webhook.actions[0].description, "string");

  const ada = await newUser();
  const services = await call(ada, "GET", "/services");
  assert.equal(services.status, 200);
  const http = services.body.items.find((s: { key: string }) => s.key === "http");
  assert.equal(http.connected, false);
  assert.equal(http.reactions[0].params_schema.type, "object");
  assert.ok(http.reactions[0].params.some((p: { name: string; required: boolean }) => p.name === "url" && p.required));
  assert.equal((await call(null, "GET", "/services")).status, 401);
});

apiTest("the OpenAPI document lists every route, and the reference page and CORS preflight answer", async () => {
  const { app } = await import("../api/app.ts");
  const doc = await call(null, "GET", "/openapi.json");
  assert.equal(doc.status, 200);
  assert.equal(doc.body.openapi, "3.1.0");
  const documented = new Set(
    Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)),
  );
  const undocumented = app.routes
    .filter((route) => route.method !== "ALL" && !["/api/openapi.json", "/api/docs"].includes(route.path))
    .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`)
    .filter((route) => !documented.has(route));
  // Health is the one plain route: it must not need the OpenAPI machinery to answer.
  assert.deepEqual(undocumented, ["GET /api/health"]);
  for (const route of ["POST /api/areas", "GET /api/areas/{id}/executions", "POST /api/executions/{id}/replay"]) {
    assert.ok(documented.has(route), route);
  }
  assert.deepEqual(doc.body.components.securitySchemes.bearerAuth, {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A Supabase Auth access token (supabase.auth.getSession()).",
  });

  const page = await fetch(`${functionsUrl}/api/docs`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /openapi\.json/);

  const preflight = await fetch(`${functionsUrl}/api/areas`, {
    method: "OPTIONS",
    headers: { origin: "https://app.example.org", "access-control-request-method": "POST" },
  });
  await preflight.body?.cancel();
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
});

apiTest("tokens signed with the project's asymmetric keys (JWKS) are verified; others are not", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "key-1", alg: "ES256", use: "sig" };
  const keys = keysFromEnv({ SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }) });
  const sub = crypto.randomUUID();
  const sign = (kid: string, key: CryptoKey) =>
    new SignJWT({ sub, role: "authenticated", aud: "authenticated" })
      .setProtectedHeader({ alg: "ES256", kid }).setIssuedAt().setExpirationTime("5m").sign(key);
  const caller = await verifyAccessToken(await sign("key-1", privateKey), keys);
  assert.equal(caller.id, sub);

  const stranger = await generateKeyPair("ES256");
  await assert.rejects(verifyAccessToken(await sign("key-1", stranger.privateKey), keys), { code: "invalid_token" });
  // No HS256 secret configured: an HS256 token cannot be checked, so it is refused.
  const hs = await new SignJWT({ sub, role: "authenticated", aud: "authenticated" })
    .setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m").sign(new TextEncoder().encode("x".repeat(32)));
  await assert.rejects(verifyAccessToken(hs, keys), { status: 401 });
});
