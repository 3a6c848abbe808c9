// The exact per-user cap on executions running at once, across every worker. pg-boss's
// groupConcurrency is only a coarse filter: it counts a group's active jobs inside each fetch
// statement, without a lock, so the fetch loops of this worker and of others, fetching at the same
// moment, each see the same count and together start more than the cap. Before an execution
// starts, private.claim_execution_slots() (supabase/migrations/*_group_slots.sql) admits the job
// under its group's advisory lock, or defers it (a new job for the event 0.2-0.4 s later,
// spending no attempt). Why this and not the alternatives:
// - a slot is a mark on the job's own row, counted only while the job is active in that attempt,
//   so it is given back by the job's completion or failure, with no release round trip, and a
//   crashed worker's slots come back with pg-boss's heartbeat expiry (when pg-boss's own count
//   lets the group run again too);
// - session advisory locks held for the execution would need a pinned connection per running
//   execution (the pool is far smaller than the executions a worker runs) and a release call;
// - serializing every fetch under one lock would put all workers' fetches in a line;
// - pg-boss (12.35) has nothing exact: localGroupConcurrency counts in one process only, and cannot
//   be combined with groupConcurrency.
// The jobs of a batch start in the same turn, so they are admitted in one call (coalesce.ts).
import type { Logger } from "@area/nodes/log";
import type { JobResult, JobWithMetadata } from "pg-boss";
import type pg from "pg";
import { coalesce } from "./coalesce.ts";
import type { Metrics } from "./metrics.ts";

export interface GroupSlotsDeps {
  pool: pg.Pool;
  /** Executions of one group (user) running at once, across all workers (AREA_GROUP_CONCURRENCY). */
  cap: number;
  metrics: Metrics;
  log: Logger;
}

type Handler<T> = (job: JobWithMetadata<T>) => Promise<JobResult>;

/** Calls in flight at once; jobs fetched meanwhile wait and go together in the next call. */
const SLOTS = 2;
/** Jobs per call at most. */
const MAX_ITEMS = 64;

export function createGroupSlots(deps: GroupSlotsDeps) {
  const admit = coalesce<{ id: string; retry_count: number }, boolean>(async (jobs) => {
    const { rows } = await deps.pool.query<{ id: string }>(
      "select id from private.claim_execution_slots($1, $2) as id",
      [JSON.stringify(jobs), deps.cap],
    );
    const admitted = new Set(rows.map((row) => row.id));
    return jobs.map((job) => admitted.has(job.id));
  }, { slots: SLOTS, maxItems: MAX_ITEMS });

  /** Wraps an area.execute handler: it runs only for a job admitted to a slot of its group. */
  return function gate<T>(handle: Handler<T>): Handler<T> {
    return async (job) => {
      if (job.groupId == null) return handle(job);
      if (await admit({ id: job.id, retry_count: job.retryCount })) return handle(job);
      // Deferred (or no longer this attempt's): the database already settled the job, so pg-boss's
      // completion of it is a no-op (its settle is fenced to an active job at this attempt).
      deps.log.debug("execution deferred: its user's executions are at their cap", {
        jobId: job.id,
        groupId: job.groupId,
        cap: deps.cap,
      });
      deps.metrics.executions.inc({ status: "deferred" });
      return { id: job.id, status: "completed" };
    };
  };
}
