// Users and AREAs for the suites and the benchmark, created the way clients do: create_area()
// called as the user (role authenticated with their JWT claims), RLS and validation included.
import { randomUUID } from "node:crypto";
import type pg from "pg";

export async function createUser(pool: pg.Pool, email = `user-${randomUUID()}@example.com`): Promise<string> {
  const { rows: [user] } = await pool.query<{ id: string }>(
    "insert into auth.users (id, email) values (gen_random_uuid(), $1) returning id",
    [email],
  );
  return user.id;
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
