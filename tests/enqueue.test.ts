// The enqueue contract: a job sent from SQL (private.enqueue) is the same job pg-boss's own
// send() makes, so pg-boss fetches, retries, expires and dead-letters it identically.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { PgBoss } from "pg-boss";
import { waitFor } from "../scripts/lib/areas.ts";

const databaseUrl = process.env.DATABASE_URL!;
const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
// A private pg-boss instance on scratch queues (the stack's worker never touches them).
const boss = new PgBoss({
  connectionString: databaseUrl,
  migrate: false,
  schedule: false,
  supervise: true,
  superviseIntervalSeconds: 1,
  monitorIntervalSeconds: 1,
  max: 3,
});
const suffix = process.pid;
const queue = `contract.${suffix}`;
const deadLetter = `contract.dead.${suffix}`;

async function sqlEnqueue(name: string, data: unknown, options: unknown): Promise<string | null> {
  const { rows: [row] } = await pool.query<{ id: string | null }>("select private.enqueue($1, $2, $3) as id", [
    name,
    JSON.stringify(data),
    JSON.stringify(options),
  ]);
  return row.id;
}

/** A job's row, without what differs by nature (id, data, timestamps of creation). */
async function jobRow(id: string) {
  const { rows: [row] } = await pool.query(
    `select name, state, priority, retry_limit, retry_count, retry_delay, retry_backoff, retry_delay_max,
            expire_seconds, deletion_seconds, singleton_key, group_id, group_tier, policy, dead_letter,
            heartbeat_seconds, extract(epoch from keep_until - start_after)::integer as keep_seconds,
            extract(epoch from start_after - created_on)::integer as delay_seconds
     from pgboss.job where id = $1`,
    [id],
  );
  return row;
}

before(async () => {
  boss.on("error", () => {});
  await boss.start();
  await boss.createQueue(deadLetter);
  await boss.createQueue(queue, { retryLimit: 1, retryDelay: 1, expireInSeconds: 1, deadLetter, notify: true });
});

after(async () => {
  await boss.stop({ graceful: false });
  for (const name of [queue, deadLetter]) await pool.query("select pgboss.delete_queue($1)", [name]);
  await pool.end();
});

test("a job sent from SQL has the row boss.send() writes, options included", async () => {
  const options = { priority: 2, startAfter: 30, singletonKey: "k", group: { id: "g", tier: "t" }, retryLimit: 3 };
  const fromNode = await boss.send(queue, { from: "node" }, options);
  const fromSql = await sqlEnqueue(queue, { from: "sql" }, options);
  assert.ok(fromNode && fromSql);
  assert.deepEqual(await jobRow(fromSql), await jobRow(fromNode));
  const { rows: [{ data }] } = await pool.query("select data from pgboss.job where id = $1", [fromSql]);
  assert.deepEqual(data, { from: "sql" });
  await boss.cancel(queue, [fromNode, fromSql]);
});

test("jobs from SQL and from Node are fetched, retried and dead-lettered alike", async () => {
  const ids = [await boss.send(queue, { from: "node" }), await sqlEnqueue(queue, { from: "sql" }, {})] as string[];
  const first = await boss.fetch(queue, { batchSize: 10 });
  assert.deepEqual(first.map((job) => job.id).sort(), [...ids].sort(), "both are fetched at once");
  await boss.fail(queue, ids, { error: "first failure" });
  const [nodeRow, sqlRow] = await Promise.all(ids.map(jobRow));
  assert.equal(nodeRow.state, "retry");
  assert.deepEqual(sqlRow, nodeRow, "the same retry state, count and delay");

  // After retryDelay both come back; failing again exhausts retryLimit 1 and dead-letters them.
  const second = await waitFor("the retries", async () => {
    const jobs = await boss.fetch(queue, { batchSize: 10 });
    return jobs.length ? jobs : undefined;
  });
  assert.deepEqual(second.map((job) => job.id).sort(), [...ids].sort());
  await boss.fail(queue, ids, { error: "second failure" });
  const dead = await waitFor("the dead letters", async () => {
    const { rows } = await pool.query<{ data: { from: string } }>("select data from pgboss.job where name = $1", [
      deadLetter,
    ]);
    return rows.length === 2 ? rows.map((row) => row.data.from).sort() : undefined;
  });
  assert.deepEqual(dead, ["node", "sql"]);
});

test("jobs from SQL and from Node expire alike when a worker never finishes them", async () => {
  const ids = [await boss.send(queue, { from: "node" }), await sqlEnqueue(queue, { from: "sql" }, {})] as string[];
  await boss.fetch(queue, { batchSize: 10 }); // taken, never completed: expireInSeconds is 1
  const [nodeRow, sqlRow] = await waitFor("expiry", async () => {
    const rows = await Promise.all(ids.map(jobRow));
    return rows.every((row) => row.state === "retry") ? rows : undefined;
  });
  assert.deepEqual(sqlRow, nodeRow, "both went back to retry alike, by pg-boss's own supervision");
  await boss.cancel(queue, ids);
});

test("a job due now wakes listeners at once (pg_notify on pg-boss's channel)", async () => {
  const listener = new pg.Client({ connectionString: databaseUrl });
  await listener.connect();
  try {
    const { rows: [{ channel }] } = await listener.query<{ channel: string }>(
      "select 'pgboss_' || left(encode(sha224('pgboss'::bytea), 'hex'), 24) as channel",
    );
    await listener.query(`listen "${channel}"`);
    const woken = new Promise<string | undefined>((resolve) => listener.on("notification", (n) => resolve(n.payload)));
    const id = await sqlEnqueue(queue, {}, {});
    assert.equal(await woken, queue);
    const later = await sqlEnqueue(queue, {}, { startAfter: 60 });
    assert.ok(later, "a later job is queued too (and found by polling when due)");
    await boss.cancel(queue, [id!, later]);
  } finally {
    await listener.end();
  }
});
