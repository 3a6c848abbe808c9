// raw_pgboss_per_s: pg-boss alone on the stack's database, as the ceiling the engine is compared
// with. Same constructor options, batch size and local concurrency as the worker's area.execute
// consumer (worker/src/main.ts, worker/src/config.ts), a no-op handler, a scratch queue.
import { PgBoss } from "pg-boss";
import type pg from "pg";
import { loadConfig } from "../../../worker/src/config.ts";
import { waitFor } from "../areas.ts";

export interface RawResult {
  jobs: number;
  elapsedMs: number;
  perSecond: number;
  batchSize: number;
  localConcurrency: number;
}

/** The worker's defaults, read from its own config loader so the two cannot drift apart. */
export function workerDefaults(): { batchSize: number; concurrency: number } {
  const config = loadConfig({ DATABASE_URL: "postgresql://unused", AREA_ENCRYPTION_KEY: "unused" });
  return { batchSize: config.batchSize, concurrency: config.concurrency };
}

export async function measureRawPgBoss(pool: pg.Pool, databaseUrl: string, jobs: number): Promise<RawResult> {
  const { batchSize, concurrency } = workerDefaults();
  const boss = new PgBoss({
    connectionString: databaseUrl,
    migrate: false,
    schedule: false,
    useListenNotify: true,
    superviseIntervalSeconds: 5,
    monitorIntervalSeconds: 5,
    max: concurrency + 4,
  });
  boss.on("error", () => {});
  const queue = `bench.raw.${process.pid}`;
  await boss.start();
  try {
    await boss.createQueue(queue, { policy: "standard", notify: true });
    for (let sent = 0; sent < jobs; sent += 1000) {
      const size = Math.min(1000, jobs - sent);
      await boss.insert(queue, Array.from({ length: size }, (_, i) => ({ data: { seq: sent + i } })));
    }
    await boss.work<{ seq: number }>(queue, {
      batchSize,
      localConcurrency: concurrency,
      burstWhenBatchFull: true,
      includeMetadata: true,
      perJobResults: true,
      notifyPollingIntervalSeconds: 2,
    }, (batch) => Promise.resolve(batch.map((job) => ({ id: job.id, status: "completed" as const }))));
    await waitFor(
      `${jobs} raw pg-boss jobs completing`,
      async () => {
        const { rows } = await pool.query<{ n: number }>(
          "select count(*)::int as n from pgboss.job where name = $1 and state = 'completed'",
          [queue],
        );
        return rows[0].n >= jobs;
      },
      120_000,
    );
    await boss.offWork(queue);
    // First fetch to last completion, on the database's clock.
    const { rows: [span] } = await pool.query<{ ms: number }>(
      `select extract(epoch from max(completed_on) - min(started_on)) * 1000 as ms
       from pgboss.job where name = $1`,
      [queue],
    );
    const elapsedMs = Number(span.ms);
    return { jobs, elapsedMs, perSecond: jobs / (elapsedMs / 1000), batchSize, localConcurrency: concurrency };
  } finally {
    await boss.deleteQueue(queue).catch(() => {});
    await boss.stop({ graceful: false, close: true }).catch(() => {});
    // The scratch jobs shared area.execute's table (job_common): without a vacuum their dead rows
    // would slow the steps measured after this one.
    await pool.query("vacuum (analyze) pgboss.job_common");
  }
}
