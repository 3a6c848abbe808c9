// engine_exec_per_s: complete executions by the stack's worker process. One AREA (bench/noop
// action, one bench/noop reaction) per user, created through create_area as that user; N events,
// spread evenly over the AREAs, stored and enqueued by one call of private.ingest_events (what
// the webhooks function calls); the clock runs from that statement's commit until the last hook
// log is marked processed.
//
// Several users by default: one user's executions run at most AREA_GROUP_CONCURRENCY at a time
// across all workers (the per-user fairness cap), so with a single user the figure would be that
// cap over the round trip of one execution, not the engine's throughput. `users = 1` measures
// exactly that case.
//
// The wait is capped: an engine that drains slowly yields the rate it reached by then (processed
// events over the time taken), and its leftover jobs are removed so the next steps run undisturbed.
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { benchNoopArea } from "../areas.ts";

export interface EngineResult {
  events: number;
  /** Users, each with one AREA, the events are spread over. */
  users: number;
  processed: number;
  elapsedMs: number;
  perSecond: number;
  /** True when the cap ended the wait before every event was processed. */
  capped: boolean;
}

export async function measureEngine(
  pool: pg.Pool,
  events: number,
  capMs: number,
  users: number,
): Promise<EngineResult> {
  const userIds: string[] = [];
  const areaIds: string[] = [];
  const hooks: string[] = [];
  for (let i = 0; i < users; i++) {
    const { userId, area } = await benchNoopArea(pool, "Bench: engine throughput");
    userIds.push(userId);
    areaIds.push(area.id);
    hooks.push(area.hook.id);
  }

  const { rows: [ingested] } = await pool.query<{ accepted: number }>(
    `select count(*) filter (where result ->> 'status' = 'accepted')::int as accepted
     from private.ingest_events((
       select coalesce(jsonb_agg(jsonb_build_object('hook_job_id', ($1::uuid[])[1 + i % cardinality($1::uuid[])],
                                                    'dedupe_key', 'k' || i, 'payload', jsonb_build_object('seq', i))
                                 order by i), '[]')
       from generate_series(1, $2::int) i))`,
    [hooks, events],
  );
  // The statement has committed when the query returns: from now on the worker can see the jobs.
  const committedAt = Date.now();
  if (ingested.accepted !== events) throw new Error(`ingest_events accepted ${ingested.accepted} of ${events} events`);

  const processedCount = async () =>
    (await pool.query<{ n: number }>(
      "select count(*)::int as n from public.hook_logs where hook_job_id = any ($1::uuid[]) and processed",
      [hooks],
    )).rows[0].n;
  let processed = 0;
  while ((processed = await processedCount()) < events && Date.now() - committedAt < capMs) await sleep(50);
  const capped = processed < events;
  if (capped) {
    // Only the not yet started jobs: what runs now finishes normally.
    await pool.query(
      "delete from pgboss.job where name = 'area.execute' and group_id = any ($1) and state in ('created', 'retry')",
      [userIds],
    );
  }

  const { rows: [outcome] } = await pool.query<{ last_ms: number; success: number; other: string | null }>(
    `select (select extract(epoch from max(processed_at)) * 1000 from public.hook_logs
             where hook_job_id = any ($1::uuid[])) as last_ms,
            count(*) filter (where status = 'success')::int as success,
            string_agg(distinct status::text, ', ') filter (where status <> 'success') as other
     from public.execution_logs where area_id = any ($2::uuid[]) and area_reaction_id is null`,
    [hooks, areaIds],
  );
  if (outcome.success < processed || outcome.other) {
    throw new Error(
      `${outcome.success} of ${processed} executions succeeded (other outcomes: ${outcome.other ?? "none"})`,
    );
  }
  const elapsedMs = capped ? Date.now() - committedAt : Math.max(1, Number(outcome.last_ms) - committedAt);
  return { events, users, processed, elapsedMs, perSecond: processed / (elapsedMs / 1000), capped };
}
