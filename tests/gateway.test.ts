// The local functions gateway (scripts/gateway.ts) on real Deno, with fixture functions:
// Supabase's paths, CORS preflight, x-forwarded-for, verify_jwt, and its error answers.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { root } from "../scripts/lib/database.ts";
import { apiKey, generateJwtSecret } from "../scripts/lib/keys.ts";
import { waitForHttp } from "../scripts/lib/processes.ts";
import { freePort, gatewayArgs } from "../scripts/lib/stack.ts";

const secret = generateJwtSecret();
let base = "";
let gateway: ReturnType<typeof spawn>;

/** What the echo fixture reports about the request it received. */
interface Echo {
  method: string;
  path: string;
  query: string;
  forwardedFor: string | null;
  body: string | null;
}

before(async () => {
  const port = await freePort();
  gateway = spawn("deno", gatewayArgs(port, join(root, "tests/fixtures/gateway")), {
    env: { ...process.env, SUPABASE_JWT_SECRET: secret },
    stdio: "ignore",
  });
  base = `http://127.0.0.1:${port}/functions/v1`;
  await waitForHttp(`${base}/echo`, { name: "gateway", child: gateway });
});

after(async () => {
  gateway.kill("SIGTERM");
  await once(gateway, "exit");
});

test("a function sees the path Supabase gives it: /<name>/..., query kept, body passed", async () => {
  const response = await fetch(`${base}/echo/a/b?x=1`, { method: "POST", body: "hello" });
  assert.equal(response.status, 200);
  const seen = await response.json() as Echo;
  assert.equal(seen.path, "/echo/a/b");
  assert.equal(seen.query, "?x=1");
  assert.equal(seen.body, "hello");
  assert.equal(seen.method, "POST");
  assert.equal(seen.forwardedFor, "127.0.0.1");
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
});

test("x-forwarded-for keeps the hops it was sent with", async () => {
  const seen = await (await fetch(`${base}/echo`, { headers: { "x-forwarded-for": "203.0.113.7" } })).json() as Echo;
  assert.equal(seen.forwardedFor, "203.0.113.7, 127.0.0.1");
});

test("CORS preflight is answered by the gateway, even for a verify_jwt function", async () => {
  const response = await fetch(`${base}/private`, {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-headers": "authorization, x-client-info" },
  });
  assert.equal(response.status, 204);
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  assert.equal(response.headers.get("access-control-allow-headers"), "authorization, x-client-info");
  assert.match(response.headers.get("access-control-allow-methods")!, /PATCH/);
});

test("verify_jwt (the default) rejects a missing or forged token and accepts a project key", async () => {
  const missing = await fetch(`${base}/private`);
  assert.equal(missing.status, 401);
  assert.deepEqual(await missing.json(), { code: 401, message: "Missing authorization header" });

  const forged = await fetch(`${base}/private`, {
    headers: { authorization: `Bearer ${await apiKey(generateJwtSecret(), "service_role")}` },
  });
  assert.equal(forged.status, 401);
  assert.deepEqual(await forged.json(), { code: 401, message: "Invalid JWT" });

  const ok = await fetch(`${base}/private`, { headers: { authorization: `Bearer ${await apiKey(secret, "anon")}` } });
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "secret");
  // The function's own CORS answer wins over the gateway's default.
  assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example");
});

test("unknown functions, shared-code folders and paths outside /functions/v1 are 404", async () => {
  for (const url of [`${base}/nope`, `${base}/_shared/util.ts`, base.replace("/functions/v1", "/rest/v1/areas")]) {
    const response = await fetch(url);
    assert.equal(response.status, 404, url);
    assert.deepEqual(await response.json(), { code: "NOT_FOUND", message: "Requested function was not found" });
  }
});

test("a function that throws is a JSON 500, and the gateway keeps serving", async () => {
  const response = await fetch(`${base}/broken`);
  assert.equal(response.status, 500);
  assert.equal(((await response.json()) as { code: string }).code, "BOOT_ERROR");
  assert.equal((await fetch(`${base}/echo`)).status, 200);
});
