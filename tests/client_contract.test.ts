// The client contract, as a frontend holds it: @supabase/supabase-js calling the api function with
// functions.invoke() and a user's session token. POST /api/areas mirrors the semantics of
// supabase.rpc('create_area'): the same definition gives the same AREA or the same error (message,
// field path and rule). There is no PostgREST here, so the rpc side runs create_area exactly as
// PostgREST would: role authenticated and the user's claims, in one transaction.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createClient, FunctionsHttpError } from "@supabase/supabase-js";
import pg from "pg";
import { createSignedInUser } from "../scripts/lib/areas.ts";

const env = process.env as Record<string, string>;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
after(() => pool.end());

async function signedIn() {
  const { id, token } = await createSignedInUser(pool);
  const supabase = createClient(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, {
    global: { headers: { Authorization: `Bearer ${token}` } },
    auth: { persistSession: false, autoRefreshToken: false },
  });
  return { id, supabase };
}

/** supabase.rpc('create_area', {definition}) as PostgREST runs it; PostgREST's error fields. */
async function rpcCreateArea(userId: string, definition: unknown) {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query(
      "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)",
      [JSON.stringify({ sub: userId, role: "authenticated", aud: "authenticated" })],
    );
    const { rows: [row] } = await client.query("select public.create_area($1::jsonb) as area", [
      JSON.stringify(definition),
    ]);
    await client.query("commit");
    return { data: row.area, error: null };
  } catch (error) {
    await client.query("rollback");
    const { code, message, detail } = error as { code: string; message: string; detail?: string };
    return { data: null, error: { code, message, details: detail ?? null } };
  } finally {
    client.release();
  }
}

const definition = {
  name: "Push to chat",
  action: { service: "webhook", name: "received", params: {} },
  reactions: [{
    service: "http",
    name: "request",
    params: { url: "https://example.org/hook", method: "POST", body: '{"text":"{{body.text}}"}' },
  }],
};

test("functions.invoke('api/areas') creates the AREA that rpc('create_area') would", async () => {
  const { id, supabase } = await signedIn();
  const { data, error } = await supabase.functions.invoke("api/areas", { method: "POST", body: definition });
  assert.equal(error, null);
  const rpc = await rpcCreateArea(id, definition);
  assert.equal(rpc.error, null);
  const comparable = (area: Record<string, unknown>) => {
    const { id: _id, hook: _hook, webhook, created_at: _c, updated_at: _u, ...rest } = area;
    return { ...rest, secretShown: typeof (webhook as { secret: unknown }).secret === "string" };
  };
  assert.deepEqual(comparable(data), comparable(rpc.data));
  assert.match(data.webhook.url, /\/functions\/v1\/webhooks\/webhook\/[0-9a-f-]{36}$/);

  const listed = await supabase.functions.invoke("api/areas", { method: "GET" });
  assert.deepEqual(listed.data.items.map((area: { id: string }) => area.id).sort(), [data.id, rpc.data.id].sort());
});

test("an invalid definition fails the same way through the api and through rpc", async () => {
  const { id, supabase } = await signedIn();
  const invalid = structuredClone(definition);
  invalid.reactions[0].params.url = "ftp://example.org/x";
  const { data, error } = await supabase.functions.invoke("api/areas", { method: "POST", body: invalid });
  assert.equal(data, null);
  assert.ok(error instanceof FunctionsHttpError);
  const response = error.context as Response;
  assert.equal(response.status, 422);
  const body = await response.json() as {
    error: { message: string; details: { issues: { path: string; rule: string }[] } };
  };

  const rpc = await rpcCreateArea(id, invalid);
  assert.equal(rpc.error?.code, "22023");
  assert.equal(body.error.message, rpc.error?.message);
  const { path, rule } = JSON.parse(rpc.error?.details ?? "{}");
  assert.deepEqual(body.error.details.issues.map((i: { path: string; rule: string }) => [i.path, i.rule]), [[
    path,
    rule,
  ]]);
  const { rows: [{ count }] } = await pool.query("select count(*)::int as count from public.areas where user_id = $1", [
    id,
  ]);
  assert.equal(count, 0);
});

test("functions.invoke reads about.json, and a signed-out client is refused user routes", async () => {
  const anonymous = createClient(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, { auth: { persistSession: false } });
  const about = await anonymous.functions.invoke("api/about.json", { method: "GET" });
  assert.equal(about.error, null);
  assert.ok(Number.isInteger(about.data.server.current_time));
  assert.ok(about.data.server.services.some((service: { name: string }) => service.name === "webhook"));

  const refused = await anonymous.functions.invoke("api/areas", { method: "GET" });
  assert.ok(refused.error instanceof FunctionsHttpError);
  assert.equal((refused.error.context as Response).status, 401);
});
