// The api's connections routes in-process, for what the gateway's environment cannot show: a
// provider whose client id and secret are not set is unavailable (503 on authorize, `available:
// false` in GET /services), never a broken redirect. The whole flow runs against the provider
// fakes in tests/connections.test.ts.
import assert from "node:assert/strict";
import { SignJWT } from "jose";

Deno.test({
  name: "a provider without client credentials: authorize answers 503 provider_unavailable, /services says unavailable",
  // The app's database pool outlives the test; the process ends with the run.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const secret = Deno.env.get("SUPABASE_JWT_SECRET");
    const databaseUrl = Deno.env.get("DATABASE_URL");
    if (!secret || !databaseUrl) {
      throw new Error("SUPABASE_JWT_SECRET and DATABASE_URL are not set: run through npm test");
    }
    // Another suite of this run points SUPABASE_DB_URL at a closed port.
    Deno.env.set("SUPABASE_DB_URL", databaseUrl);
    const saved = ["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"].map((name) => [name, Deno.env.get(name)] as const);
    saved.forEach(([name]) => Deno.env.delete(name));
    try {
      await unavailable(secret);
    } finally {
      for (const [name, value] of saved) if (value !== undefined) Deno.env.set(name, value);
    }
  },
});

async function unavailable(secret: string) {
  const { app } = await import("../api/app.ts");
  const token = await new SignJWT({ role: "authenticated", email: "nobody@example.com" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(crypto.randomUUID())
    .setAudience("authenticated")
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(secret));
  const headers = { authorization: `Bearer ${token}` };

  const authorize = await app.fetch(
    new Request("http://localhost/api/connections/github/authorize", { method: "POST", headers }),
  );
  assert.equal(authorize.status, 503);
  const { error } = await authorize.json();
  assert.equal(error.code, "provider_unavailable");
  assert.match(error.message, /GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET/);

  const services = await app.fetch(new Request("http://localhost/api/services", { headers }));
  assert.equal(services.status, 200);
  const { items } = await services.json();
  const available = Object.fromEntries(
    items.map((service: { key: string; available: boolean }) => [service.key, service.available]),
  );
  assert.equal(available.github, false);
  assert.equal(available.http, true, "services without OAuth2 are always available");
}
