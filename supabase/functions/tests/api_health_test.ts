// The api function's health route, through the local gateway (as clients call it) and
// in-process against an unreachable database.
import assert from "node:assert/strict";

const functionsUrl = Deno.env.get("FUNCTIONS_URL");

Deno.test("GET /api/health answers 200 through the gateway when the database is up", async () => {
  if (!functionsUrl) throw new Error("FUNCTIONS_URL is not set: run through npm test");
  const response = await fetch(`${functionsUrl}/api/health`);
  assert.deepEqual(response.status, 200);
  assert.deepEqual(await response.json(), { status: "ok", database: "ok" });
  assert.deepEqual(response.headers.get("access-control-allow-origin"), "*");
  assert.match(response.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
});

Deno.test("an unknown api route is a JSON 404 in the error envelope", async () => {
  const response = await fetch(`${functionsUrl}/api/nope`);
  assert.deepEqual(response.status, 404);
  const body = await response.json();
  assert.deepEqual(body.error.code, "not_found");
  assert.deepEqual(body.error.message, "No route for GET /api/nope");
});

Deno.test({
  name: "GET /api/health answers 503 when the database is unreachable",
  // postgres.js keeps a reconnect timer on the unreachable pool; the process ends with the test run.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    Deno.env.set("SUPABASE_DB_URL", "postgresql://postgres:postgres@127.0.0.1:9/postgres");
    const { app } = await import("../api/app.ts");
    const response = await app.fetch(new Request("http://localhost/api/health"));
    assert.deepEqual(response.status, 503);
    assert.deepEqual((await response.json()).error.code, "database_unavailable");
  },
});
