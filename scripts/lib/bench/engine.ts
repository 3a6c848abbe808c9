// engine_exec_per_s: complete executions by the stack's worker process. One AREA (bench/noop
// action, one bench/noop reaction) created through create_area as its user; N events stored and
// enqueued in one statement with private.ingest_event (what the webhooks function calls); the
// clock runs from that statement's commit until the last hook log is marked processed.
//
// The wait is capped: an engine that drains slowly yields the rate it reached by then (processed
// events over the time taken), and its leftover jobs are removed so the next steps run undisturbed.
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { createArea, createUser } from "../areas.ts";

export interface EngineResult {
  events: number;
  processed: number;
  elapsedMs: number;
  perSecond: number;
  /** True when the cap ended the wait before every event was processed. */
  capped: boolean;
}

export async function measureEngine(pool: pg.Pool, events: number, capMs: number): Promise<EngineResult> {
  const user = await createUser(pool);
  const area = await createArea(pool, user, {
    name: "Bench: engine throughput",
    enabled: true,
    action: { service: "bench", name: "noop", params: {} },
    reactions: [{ service: "bench", name: "noop", params: {} }],
  });
  const hook = area.hook.id;

  const { rows: [ingested] } = await pool.query<{ accepted: number }>(
    `select count(*) filter (where r ->> 'status' = 'accepted')::int as accepted
     from (select private.ingest_event($1, 'k' || i, jsonb_build_object('seq', i)) as r
           from generate_series(1, $2::int) i) s`,
    [hook, events],
  );
  // The statement has committed when the query returns: from now on the worker can see the jobs.
  const committedAt = Date.now();
  if (ingested.accepted !== events) throw new Error(`ingest_event accepted ${ingested.accepted} of ${events} events`);

  const processedCount = async () =>
    (await pool.query<{ n: number }>(
      "select count(*)::int as n from public.hook_logs where hook_job_id = $1 and processed",
      [hook],
    )).rows[0].n;
  let processed = 0;
  while ((processed = await processedCount()) < events && Date.now() - committedAt < capMs) await sleep(50);
  const capped = processed < events;
  if (capped) {
    // Only the not yet started jobs: what runs now finishes normally.
    await pool.query(
      "delete from pgboss.job where name = 'area.execute' and group_id = $1 and state in ('created', 'retry')",
      [user],
    );
  }

  const { rows: [outcome] } = await pool.query<{ last_ms: number; success: number; other: string | null }>(
    `select (select extract(epoch from max(processed_at)) * 1000 from public.hook_logs where hook_job_id = $1) as last_ms,
            count(*) filter (where status = 'success')::int as success,
            string_agg(distinct status::text, ', ') filter (where status <> 'success') as other
     from public.execution_logs where area_id = $2 and area_reaction_id is null`,
    [hook, area.id],
  );
  if (outcome.success < processed || outcome.other) {
    throw new Error(
      `${outcome.success} of ${processed} executions succeeded (other outcomes: ${outcome.other ?? "none"})`,
    );
  }
  const elapsedMs = capped ? Date.now() - committedAt : Math.max(1, Number(outcome.last_ms) - committedAt);
  return { events, processed, elapsedMs, perSecond: processed / (elapsedMs / 1000), capped };
}
