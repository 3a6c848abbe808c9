// schedule_100k_ms: one scheduler tick (private.schedule_polls()) over 100k due polling hooks.
// Run last, with the worker stopped, so the hook.poll jobs it enqueues disturb nothing.
//
// 100k real AREAs cannot be written within the bench's time: each one's commit-time check
// (validate_area, area_definition, sync_hook_job, audit) costs milliseconds, so 100k take
// minutes. The tick only reads and writes hook_jobs, so it runs on an AREA-less scratch copy:
// bench_scratch.hook_jobs is made LIKE public.hook_jobs (columns, defaults, checks, every index
// under its own name, the triggers), and bench_scratch.schedule_polls is the live definition of
// private.schedule_polls with only its table renamed. It enqueues into the real hook.poll queue
// through pg-boss's real insert. Nothing is disabled; the scratch schema is dropped afterwards
// (the 100k hook.poll jobs stay queued: the worker is stopped and the stack is deleted).
import type pg from "pg";

export interface ScheduleResult {
  hooks: number;
  intervalSeconds: number;
  enqueued: number;
  /** schedule_polls() alone, by the database's clock (clock_timestamp() around the call). */
  dbMs: number;
  /** The call as the client sees it: round trip and commit included. */
  clientMs: number;
  /**
   * Whether the plan of the due-hooks query read the hook_jobs_due index. With every hook due it
   * should not: the index would lead to the whole table anyway, which a sequential scan reads faster.
   */
  usedDueIndex: boolean;
  /**
   * The tick after, the table vacuumed and analyzed as autovacuum would after 100k updates: nothing is due
   * (the steady state between bursts), and the due-hooks query should read hook_jobs_due only.
   */
  nextTick: { enqueued: number; dbMs: number; usedDueIndex: boolean };
  /** The plans of schedule_polls()'s statements taking 1 ms or more (auto_explain), for the record. */
  plans: string[];
  /** With `analyze`: the same statements run again with EXPLAIN ANALYZE (rolled back), per-node timings. */
  analyzed: string[];
  setupMs: number;
}

const scratch = "bench_scratch";

export async function measureSchedule(
  pool: pg.Pool,
  options: { hooks: number; intervalSeconds: number; analyze: boolean },
): Promise<ScheduleResult> {
  const setupStarted = Date.now();
  const client = await pool.connect();
  // A connection lost mid-query (the stack torn down by Ctrl-C) fails the query; it must not crash the process.
  client.on("error", () => {});
  const plans: string[] = [];
  const analyzed: string[] = [];
  const nextPlans: string[] = [];
  let collect = plans;
  const onNotice = (notice: { message?: string }) => {
    if (notice.message?.includes("Query Text:")) collect.push(notice.message);
  };
  try {
    await prepareScratch(client);
    await client.query(
      `insert into ${scratch}.hook_jobs (area_id, area_action_id, service_action_id, type, status,
                                         polling_interval_seconds, next_run_at)
       select gen_random_uuid(), gen_random_uuid(), sa.id, 'polling', 'active', $2, now()
       from generate_series(1, $1::int), public.service_actions sa
       join public.services s on s.id = sa.service_id
       where s.key = 'timer' and sa.key = 'every_interval'`,
      [options.hooks, options.intervalSeconds],
    );
    // As autovacuum would leave the table before a tick.
    await client.query(`vacuum analyze ${scratch}.hook_jobs`);
    const setupMs = Date.now() - setupStarted;

    await client.query(`create function pg_temp.bench_schedule_polls(out enqueued integer, out ms float8)
      language plpgsql as $$
      declare started timestamptz := clock_timestamp();
      begin
        enqueued := ${scratch}.schedule_polls();
        ms := extract(epoch from clock_timestamp() - started) * 1000;
      end $$`);
    // Plans only (no ANALYZE instrumentation, so no distortion): what each statement read.
    client.on("notice", onNotice);
    await client.query("load 'auto_explain'");
    await client.query(`set auto_explain.log_min_duration = '1ms'; set auto_explain.log_nested_statements = on;
      set auto_explain.log_level = 'notice'; set auto_explain.log_format = 'text'`);
    const clientStarted = performance.now();
    const { rows: [tick] } = await client.query<{ enqueued: number; ms: number }>(
      "select * from pg_temp.bench_schedule_polls()",
    );
    const clientMs = performance.now() - clientStarted;
    await client.query("set auto_explain.log_min_duration = -1");
    await client.query(`vacuum analyze ${scratch}.hook_jobs`);
    collect = nextPlans;
    await client.query("set auto_explain.log_min_duration = 0");
    const { rows: [next] } = await client.query<{ enqueued: number; ms: number }>(
      "select * from pg_temp.bench_schedule_polls()",
    );
    await client.query("set auto_explain.log_min_duration = -1");
    if (options.analyze) {
      // Diagnosis: the same tick again over the same hooks, instrumented, then rolled back. The hooks
      // are made due again and the table vacuumed and analyzed first, as for the measured tick:
      // without it the plan would follow statistics that say nothing is due, and the timings would
      // include wading through the dead rows of two mass updates.
      collect = analyzed;
      await client.query(`update ${scratch}.hook_jobs set next_run_at = now()`);
      await client.query(`vacuum analyze ${scratch}.hook_jobs`);
      await client.query("begin");
      await client.query(`set local auto_explain.log_min_duration = '20ms'; set local auto_explain.log_analyze = on;
        set local auto_explain.log_buffers = on; set local auto_explain.log_triggers = on`);
      await client.query(`select ${scratch}.schedule_polls()`);
      await client.query("rollback");
    }
    const readsDueIndex = (statements: string[]) =>
      /Index (Only )?Scan using hook_jobs_due|Bitmap Index Scan on hook_jobs_due/.test(
        statements.find((plan) => /from \w+\.hook_jobs h\s+where h\.status = 'active'/.test(plan)) ?? "",
      );
    return {
      hooks: options.hooks,
      intervalSeconds: options.intervalSeconds,
      enqueued: tick.enqueued,
      dbMs: Number(tick.ms),
      clientMs,
      usedDueIndex: readsDueIndex(plans),
      nextTick: { enqueued: next.enqueued, dbMs: Number(next.ms), usedDueIndex: readsDueIndex(nextPlans) },
      plans: [...plans, ...nextPlans.map((plan) => `-- the next tick (nothing due)\n${plan}`)],
      analyzed,
      setupMs,
    };
  } finally {
    client.off("notice", onNotice);
    await client.query(`drop schema if exists ${scratch} cascade`).catch(() => {});
    client.release();
  }
}

/** The scratch table (same shape, indexes and triggers as public.hook_jobs) and the scheduler over it. */
async function prepareScratch(client: pg.PoolClient): Promise<void> {
  await client.query(`drop schema if exists ${scratch} cascade; create schema ${scratch}`);
  await client.query(`create table ${scratch}.hook_jobs (like public.hook_jobs including all)`);
  // LIKE names the copied indexes itself: give each the name of the index it copies, so plans read the same.
  const { rows: indexes } = await client.query<{ original: string; copy: string }>(
    `select o.indexname as original, c.indexname as copy
     from pg_indexes o join pg_indexes c
       on regexp_replace(o.indexdef, '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+', 'CREATE \\1INDEX')
        = regexp_replace(c.indexdef, '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+', 'CREATE \\1INDEX')
     where o.schemaname = 'public' and o.tablename = 'hook_jobs'
       and c.schemaname = $1 and c.tablename = 'hook_jobs'`,
    [scratch],
  );
  const { rows: [{ n: originals }] } = await client.query<{ n: number }>(
    "select count(*)::int as n from pg_indexes where schemaname = 'public' and tablename = 'hook_jobs'",
  );
  if (indexes.length !== originals) {
    throw new Error(`the scratch hook_jobs matched ${indexes.length} of the ${originals} indexes of public.hook_jobs`);
  }
  for (const { original, copy } of indexes.filter((index) => index.copy !== index.original)) {
    await client.query(
      `alter index ${scratch}.${client.escapeIdentifier(copy)} rename to ${client.escapeIdentifier(original)}`,
    );
  }
  const { rows: triggers } = await client.query<{ def: string }>(
    "select pg_get_triggerdef(oid) as def from pg_trigger where tgrelid = 'public.hook_jobs'::regclass and not tgisinternal",
  );
  for (const { def } of triggers) {
    await client.query(def.replace(" ON public.hook_jobs ", ` ON ${scratch}.hook_jobs `));
  }
  const { rows: [{ def }] } = await client.query<{ def: string }>(
    "select pg_get_functiondef('private.schedule_polls(interval, uuid[])'::regprocedure) as def",
  );
  const copy = def.replace("FUNCTION private.schedule_polls(", `FUNCTION ${scratch}.schedule_polls(`)
    .replaceAll("public.hook_jobs", `${scratch}.hook_jobs`);
  if (!copy.includes(`FUNCTION ${scratch}.schedule_polls(`) || !copy.includes(`${scratch}.hook_jobs`)) {
    throw new Error("private.schedule_polls no longer reads public.hook_jobs the way the bench expects");
  }
  await client.query(copy);
}
