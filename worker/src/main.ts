// The worker process: drains the pg-boss queues (area.execute, hook.poll, hook.subscribe,
// hook.unsubscribe), syncs the catalogue, seals new webhook secrets and serves /healthz, /readyz
// and /metrics. SIGTERM/SIGINT stop fetching, let in-flight jobs finish (up to a timeout), exit 0.
import { loadKeyring } from "@area/nodes/crypto";
import { createLogger } from "@area/nodes/log";
import { enabledServices } from "@area/nodes/registry";
import { type JobResult, type JobWithMetadata, PgBoss } from "pg-boss";
import pg from "pg";
import { createBookkeeping } from "./bookkeeping.ts";
import { syncCatalogue } from "./catalogue.ts";
import { loadConfig } from "./config.ts";
import { contextFactory } from "./context.ts";
import { TriggerCounters } from "./counters.ts";
import { DefinitionCache } from "./definitions.ts";
import { createEgress } from "./egress.ts";
import { createExecutor } from "./execute.ts";
import { createGroupSlots } from "./group_slots.ts";
import { startHealthServer } from "./health.ts";
import { createMetrics } from "./metrics.ts";
import { createPoller } from "./poll.ts";
import { createRegistrar } from "./registration.ts";
import { sealPendingSecrets } from "./secrets.ts";
import { JobWakeups } from "./wakeups.ts";

const log = createLogger({ component: "worker", pid: process.pid });
const config = loadConfig();
const keyring = await loadKeyring(config.encryptionKey);
const catalogue = enabledServices(process.env);

const pool = new pg.Pool({
  connectionString: config.databaseUrl,
  max: config.concurrency * 2 + 2,
  connectionTimeoutMillis: 5_000,
});
// An idle client losing its connection (database restart) must not crash the process.
pool.on("error", (error) => log.warn("database connection lost", { error: error.message }));

function createBoss(): PgBoss {
  const boss = new PgBoss({
    connectionString: config.databaseUrl,
    migrate: false, // the schema is a migration (supabase/migrations/*_pgboss.sql)
    schedule: false, // polls are scheduled by pg_cron (private.schedule_polls)
    // Jobs due now wake one fetch loop each through our own listener (wakeups.ts), not all of them.
    useListenNotify: false,
    // Expired heartbeats and expiries are found within seconds: a killed worker's jobs move on fast.
    superviseIntervalSeconds: 5,
    monitorIntervalSeconds: 5,
    max: config.concurrency + 4,
  });
  // Connection errors while the database restarts: pg-boss's loops retry by themselves.
  boss.on("error", (error) => log.warn("pg-boss error", { error: (error as Error).message }));
  return boss;
}
let boss = createBoss();
const wakeups = new JobWakeups(() => boss, log);

const metrics = createMetrics(pool);
const definitions = new DefinitionCache(pool, log);
const counters = new TriggerCounters(pool, log);
const egress = createEgress({ allowedHosts: config.allowedHosts });
const makeContext = contextFactory({ pool, keyring, catalogue, egress, allowedHosts: config.allowedHosts });
let working = false;
let stopping = false;

async function databaseReachable(): Promise<boolean> {
  try {
    await pool.query("select 1");
    return true;
  } catch {
    return false;
  }
}

const health = await startHealthServer(config.healthPort, {
  ready: async () => working && await databaseReachable(),
  metrics: metrics.registry,
});
log.info("worker starting", { healthPort: config.healthPort, concurrency: config.concurrency });

try {
  await syncCatalogue(pool, catalogue, log);
} catch (error) {
  // The seed carries the same catalogue; a failed sync must not stop event processing.
  log.error("catalogue sync failed", { error: (error as Error).message });
}

// Secrets issued by create_area() are sealed within seconds; errors are retried next round.
const sealSecrets = () =>
  sealPendingSecrets(pool, keyring, log).catch((error) =>
    log.warn("sealing webhook secrets failed", { error: (error as Error).message })
  );
await sealSecrets();
const sealTimer = setInterval(sealSecrets, 2_000);
const countersTimer = setInterval(() => void counters.flush(), 1_000);
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

const execute = createExecutor({
  pool,
  bookkeeping: createBookkeeping(pool),
  catalogue,
  definitions,
  counters,
  makeContext,
  metrics,
  log,
  reschedule: async (data, startAfterSeconds, groupId) => {
    await boss.send("area.execute", data, {
      startAfter: startAfterSeconds,
      group: groupId ? { id: groupId } : undefined,
    });
  },
});
// The exact per-user cap: pg-boss's groupConcurrency below is only a coarse filter (group_slots.ts).
const groupSlots = createGroupSlots({ pool, cap: config.groupConcurrency, metrics, log });
const poll = createPoller({ pool, catalogue, makeContext, log });
const registrar = createRegistrar({ pool, keyring, catalogue, makeContext, publicUrl: config.publicUrl, log });

/** Runs a batch's jobs side by side; a handler that throws fails (and retries) only its own job. */
function batch<T>(queue: string, handle: (job: JobWithMetadata<T>) => Promise<JobResult>) {
  return (jobs: JobWithMetadata<T>[]) =>
    Promise.all(jobs.map(async (job): Promise<JobResult> => {
      let result: JobResult;
      try {
        result = await handle(job);
      } catch (error) {
        log.error("job failed", { queue, jobId: job.id, error: (error as Error).stack ?? String(error) });
        result = { id: job.id, status: "failed", output: { error: (error as Error).message } };
      }
      metrics.jobs.inc({ queue, outcome: result.status });
      return result;
    }));
}

/** Registers a queue's handler: metadata (attempts) and per-job results, batches fetched in bursts. */
function work<T>(
  queue: string,
  limits: { localConcurrency: number; groupConcurrency: number; pollingIntervalSeconds: number; batchSize?: number },
  handle: (job: JobWithMetadata<T>) => Promise<JobResult>,
) {
  return boss.work(queue, {
    includeMetadata: true,
    perJobResults: true,
    batchSize: config.batchSize,
    burstWhenBatchFull: true,
    // NOTIFY wakes a loop for jobs due now (wakeups.ts); jobs due later (polls at their slot,
    // retries after their backoff) are found by polling, so this bounds how late they start.
    ...limits,
  }, batch(queue, handle));
}

await definitions.listen(config.databaseUrl);
// A database that is not up yet (a cold start, a failover) is waited for, not a reason to crash.
for (let attempt = 1;; attempt++) {
  try {
    await boss.start();
    break;
  } catch (error) {
    log.warn("pg-boss cannot start yet; retrying", { attempt, error: (error as Error).message });
    await boss.stop({ graceful: false }).catch(() => {});
    boss = createBoss();
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000 * attempt, 10_000)));
  }
  if (stopping) process.exit(0);
}
// A fetch returns at most groupConcurrency jobs of one busy user, and pg-boss fetches again at
// once only after a full batch: a batch larger than that cap would idle between polls.
await work("area.execute", {
  localConcurrency: config.concurrency,
  groupConcurrency: config.groupConcurrency,
  batchSize: Math.min(config.batchSize, config.groupConcurrency),
  pollingIntervalSeconds: 2,
}, groupSlots(execute));
// One poll per hook at a time (the group is the hook), as far as pg-boss's group count goes: it
// counts inside each fetch, without a lock, so two overdue slots of a hook fetched at the same
// moment can overlap. Their events are stored once (dedupe keys); the cursor last written wins.
await work("hook.poll", { localConcurrency: config.concurrency, groupConcurrency: 1, pollingIntervalSeconds: 1 }, poll);
const registrationLimits = { localConcurrency: 1, groupConcurrency: 1, pollingIntervalSeconds: 5 };
await work("hook.subscribe", registrationLimits, registrar.subscribe);
await work("hook.unsubscribe", registrationLimits, registrar.unsubscribe);
await wakeups.listen(config.databaseUrl);
working = true;
log.info("worker ready", { queues: ["area.execute", "hook.poll", "hook.subscribe", "hook.unsubscribe"] });

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  working = false;
  log.info("shutting down", { signal, timeoutMs: config.shutdownTimeoutMs });
  clearInterval(sealTimer);
  clearInterval(countersTimer);
  await wakeups.stop();
  // Stops fetching and waits for the jobs in hand; what is still running at the timeout is
  // left to its heartbeat, so another worker retries it within seconds.
  await boss.stop({ graceful: true, timeout: config.shutdownTimeoutMs }).catch((error) =>
    log.warn("pg-boss stop failed", { error: (error as Error).message })
  );
  await counters.flush();
  await definitions.stop();
  await egress.close();
  health.close();
  await pool.end().catch(() => {});
  log.info("stopped");
  process.exit(0);
}
