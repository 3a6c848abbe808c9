// Users and AREAs for the suites and the benchmark, created the way clients do: create_area()
// called as the user (role authenticated with their JWT claims), RLS and validation included.
import { createHmac, randomUUID } from "node:crypto";
import type pg from "pg";
import { accessToken } from "./keys.ts";

export async function createUser(pool: pg.Pool, email = `user-${randomUUID()}@example.com`): Promise<string> {
  const { rows: [user] } = await pool.query<{ id: string }>(
    "insert into auth.users (id, email) values (gen_random_uuid(), $1) returning id",
    [email],
  );
  return user.id;
}

/** A new user and an access token of theirs, signed with the stack's JWT secret (SUPABASE_JWT_SECRET, SUPABASE_URL). */
export async function createSignedInUser(
  pool: pg.Pool,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ id: string; email: string; token: string }> {
  if (!env.SUPABASE_JWT_SECRET || !env.SUPABASE_URL) throw new Error("SUPABASE_JWT_SECRET and SUPABASE_URL are needed");
  const email = `user-${randomUUID()}@example.com`;
  const id = await createUser(pool, email);
  const token = await accessToken(env.SUPABASE_JWT_SECRET, env.SUPABASE_URL, {
    id,
    email,
    appMetadata: {},
    userMetadata: {},
  });
  return { id, email, token };
}

export interface CreatedArea {
  id: string;
  hook: { id: string; type: string; status: string };
  /** For webhook actions: the endpoint path, and the secret (only in the result of create_area). */
  webhook: { endpoint: string; secret: string | null } | null;
}

export async function createArea(pool: pg.Pool, userId: string, definition: unknown): Promise<CreatedArea> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query("set local role authenticated");
    await client.query("select set_config('request.jwt.claims', $1, true)", [
      JSON.stringify({ sub: userId, role: "authenticated" }),
    ]);
    const { rows: [{ area }] } = await client.query("select public.create_area($1) as area", [
      JSON.stringify(definition),
    ]);
    await client.query("commit");
    return area;
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

/** A new user's enabled bench/noop → bench/noop AREA (the benchmark's do-nothing AREA). */
export async function benchNoopArea(pool: pg.Pool, name: string): Promise<{ userId: string; area: CreatedArea }> {
  const userId = await createUser(pool);
  const area = await createArea(pool, userId, {
    name,
    enabled: true,
    action: { service: "bench", name: "noop", params: {} },
    reactions: [{ service: "bench", name: "noop", params: {} }],
  });
  return { userId, area };
}

/**
 * A new user's enabled generic webhook (webhook/received) AREA with this one reaction, once the
 * worker has sealed its webhook secret; with the secret, which create_area shows only once.
 */
export async function createWebhookArea(
  pool: pg.Pool,
  name: string,
  reaction: { service: string; name: string; params: Record<string, unknown> },
): Promise<{ area: CreatedArea; secret: string }> {
  const area = await createArea(pool, await createUser(pool), {
    name,
    enabled: true,
    action: { service: "webhook", name: "received", params: {} },
    reactions: [reaction],
  });
  const secret = area.webhook?.secret;
  if (!secret) throw new Error("create_area returned no webhook secret");
  await waitForSealedSecret(pool, area.hook.id);
  return { area, secret };
}

/** A generic webhook AREA (createWebhookArea) whose http/request reaction POSTs `body` (JSON with {{placeholders}}) to `url`. */
export function webhookToHttpArea(
  pool: pg.Pool,
  options: { name: string; url: string; body: string },
): Promise<{ area: CreatedArea; secret: string }> {
  return createWebhookArea(pool, options.name, {
    service: "http",
    name: "request",
    params: {
      url: options.url,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: options.body,
    },
  });
}

/** Waits until the worker has sealed the hook's webhook secret (it does so within seconds of create_area). */
async function waitForSealedSecret(pool: pg.Pool, hookJobId: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(`the worker to seal the secret of hook ${hookJobId}`, async () => {
    const { rows } = await pool.query(
      "select 1 from private.hook_job_secrets where hook_job_id = $1 and key_id is not null",
      [hookJobId],
    );
    return rows[0];
  }, timeoutMs);
}

/** The headers of a generic webhook (webhook/received) POST of `body` signed with the AREA's secret. */
export function signedWebhookHeaders(secret: string, body: string): Record<string, string> {
  const signature = createHmac("sha256", secret).update(body).digest("hex");
  return { "content-type": "application/json", "x-area-signature": `sha256=${signature}` };
}

/** Polls until `probe` returns a value (not undefined or false), or fails naming what it waited for. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
