// The deferred AREA check at a real COMMIT, as supabase-js requests commit one by one:
// pgTAP suites roll back, so this is where commit-time enforcement is proven.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
let userId = "";

/** Runs statements in one transaction as the user, like PostgREST does; returns the error, if any. */
async function asUser(statements: Array<[string, unknown[]?]>): Promise<pg.DatabaseError | undefined> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query("set local role authenticated");
    await client.query("select set_config('request.jwt.claims', $1, true)", [
      JSON.stringify({ sub: userId, role: "authenticated" }),
    ]);
    for (const [sql, params] of statements) await client.query(sql, params);
    await client.query("commit");
    return undefined;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    return error as pg.DatabaseError;
  } finally {
    client.release();
  }
}

before(async () => {
  const { rows } = await pool.query("insert into auth.users (email) values ($1) returning id", [
    `commit-${process.pid}@example.com`,
  ]);
  userId = rows[0].id;
});

after(async () => {
  await pool.query("delete from auth.users where id = $1", [userId]);
  await pool.end();
});

test("a draft commits; enabling it incomplete fails at COMMIT with the field path; nothing partial stays", async () => {
  const draft = "f1000000-0000-4000-8000-000000000001";
  assert.equal(await asUser([[`insert into public.areas (id, name) values ($1, 'Draft')`, [draft]]]), undefined);

  const error = await asUser([
    [
      `insert into public.area_actions (area_id, service_action_id)
      select $1, id from public.service_actions where key = 'received'`,
      [draft],
    ],
    [`update public.areas set enabled = true where id = $1`, [draft]],
  ]);
  assert.equal(error?.code, "22023");
  assert.equal(error?.message, "reactions: must hold between 1 and 10 reactions");
  assert.deepEqual(JSON.parse(error!.detail!), { path: "reactions", rule: "count" });

  const { rows } = await pool.query("select count(*)::int as n from public.area_actions where area_id = $1", [draft]);
  assert.equal(rows[0].n, 0, "the rejected transaction left no action behind");
});

test("a complete AREA written row by row commits enabled, with an active hook job", async () => {
  const area = "f1000000-0000-4000-8000-000000000002";
  const reaction = "f1000000-0000-4000-8000-000000000003";
  const error = await asUser([
    [`insert into public.areas (id, name, enabled) values ($1, 'Row by row', true)`, [area]],
    [
      `insert into public.area_actions (area_id, service_action_id)
      select $1, id from public.service_actions where key = 'received'`,
      [area],
    ],
    [
      `insert into public.area_reactions (id, area_id, service_reaction_id, position)
      select $2, $1, id, 0 from public.service_reactions where key = 'request'`,
      [area, reaction],
    ],
    [
      `insert into public.area_reaction_param_values (area_reaction_id, param_id, value)
      select $1, id, '"https://example.org/{{body.id}}"' from public.service_reaction_params where name = 'url'`,
      [reaction],
    ],
  ]);
  assert.equal(error, undefined);
  const { rows } = await pool.query("select type, status from public.hook_jobs where area_id = $1", [area]);
  assert.deepEqual(rows, [{ type: "webhook", status: "active" }]);
});
