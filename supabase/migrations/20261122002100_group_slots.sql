-- One user's executions at once, exactly, across every worker (worker/src/group_slots.ts).
--
-- pg-boss's groupConcurrency, which every area.execute fetch applies, counts a group's active jobs
-- inside the fetch statement and without a lock: fetches running at the same moment (one worker's
-- fetch loops, other workers) each see the same count and together start more than the cap. It
-- stays as the coarse filter; this is the exact gate, asked by the worker before an execution
-- starts. Under the group's transaction-scoped advisory lock, the group's jobs holding a slot are
-- counted (active, and marked admitted for their current attempt) and the newcomers are admitted up
-- to the cap and marked. A slot is given back by nothing but the job leaving `active`: completed,
-- failed, or failed by pg-boss when a dead worker's heartbeat stops. So there is no release call,
-- and a crashed worker cannot leave a slot taken for longer than its heartbeat.
--
-- A newcomer over the cap is deferred: in the same transaction its job is completed and a new job
-- for the same event starts 0.2-0.4 s later, in the event's place in line (its created_on),
-- with the attempts spent so far carried in `attemptsBefore` (as a Retry-After reschedule does), so
-- a deferral spends no attempt.

create function private.claim_execution_slots(jobs jsonb, cap integer)
returns setof uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  job_id uuid;
  admitted uuid[];
  deferred uuid[];
  replacements private.pgboss_job[];
  replacement_ids uuid[];
  places timestamptz[];
begin
  if cap is null or cap < 1 then
    raise exception 'cap: must be an integer of at least 1, got %', coalesce(cap::text, 'null') using errcode = '22023';
  end if;
  if jsonb_typeof(jobs) is distinct from 'array' then
    raise exception 'jobs: must be an array of {id, retry_count}' using errcode = '22023';
  end if;
  -- Every job below is found by its own primary key probe (a LATERAL subquery with LIMIT 1, which the
  -- planner keeps as it is): statistics of a queue table are often taken when it is nearly empty, and
  -- with them the planner would rather read all of area.execute's jobs than look the few up.
  -- The groups' locks in one fixed order, so two workers' calls never wait on each other in a cycle.
  -- Held until this call's transaction ends.
  perform pg_advisory_xact_lock(hashtext('private.claim_execution_slots'), g.key)
  from (select distinct hashtext(j.group_id) as key
        from jsonb_to_recordset(jobs) as r(id uuid)
        cross join lateral (select j.group_id from pgboss.job j
                            where j.name = 'area.execute' and j.id = r.id limit 1) j
        where j.group_id is not null
        order by 1) g;
  -- A new statement in a volatile function, so a new snapshot: it sees the slots the previous holders
  -- of the locks committed. Jobs no longer active under the attempt the caller holds are neither
  -- admitted nor deferred: another attempt owns them.
  with requested as (
    select j.id, j.group_id, j.created_on
    from jsonb_to_recordset(jobs) as r(id uuid, retry_count integer)
    cross join lateral (select j.id, j.group_id, j.created_on, j.retry_count, j.state from pgboss.job j
                        where j.name = 'area.execute' and j.id = r.id limit 1) j
    where j.retry_count = r.retry_count and j.state = 'active'
  ),
  held as (
    select a.group_id, count(*)::integer as slots
    from pgboss.job a
    where a.name = 'area.execute' and a.state = 'active'
      and a.group_id in (select requested.group_id from requested)
      and a.output ->> 'admitted_attempt' = a.retry_count::text
      and a.id not in (select requested.id from requested)
    group by a.group_id
  ),
  ranked as (
    select r.id,
           r.group_id is null
             or coalesce(h.slots, 0) + row_number() over (partition by r.group_id order by r.created_on, r.id) <= cap
             as admit
    from requested r left join held h on h.group_id = r.group_id
  )
  select coalesce(array_agg(ranked.id) filter (where ranked.admit), '{}'),
         coalesce(array_agg(ranked.id) filter (where not ranked.admit), '{}')
  into admitted, deferred
  from ranked;

  -- The slot: the mark names the attempt, so a retry of the job (retry_count moves on) holds none.
  -- One statement per job: `id = any(...)` is the form the planner reads as "all of the queue's jobs"
  -- when its statistics are stale (see above); a single id is always a primary key probe.
  foreach job_id in array admitted loop
    update pgboss.job j set output = jsonb_build_object('admitted_attempt', j.retry_count)
    where j.name = 'area.execute' and j.id = job_id and j.group_id is not null;
  end loop;

  if cardinality(deferred) > 0 then
    with done as (
      update pgboss.job j
      set state = 'completed', completed_on = pgboss.job_now(),
          output = jsonb_build_object('deferred', 'the user''s executions were at their cap: a new job runs the event')
      where j.name = 'area.execute' and j.id = any (deferred) and j.state = 'active'
      returning j.*
    ),
    moved as (
      select gen_random_uuid() as next_id, done.* from done
    )
    select array_agg(private.pgboss_job_row(
             id => m.next_id,
             priority => m.priority,
             data => m.data || jsonb_build_object('attemptsBefore',
                                                  coalesce((m.data ->> 'attemptsBefore')::integer, 0) + m.retry_count),
             -- Soon, as the user's running executions end within a moment; spread, so jobs deferred together
             -- do not all come back at the same instant. (1-2 s halved the bench's engine throughput.)
             "startAfter" => (0.2 + 0.2 * random())::text || ' seconds',
             "retryLimit" => m.retry_limit,
             "retryDelay" => m.retry_delay,
             "retryDelayMax" => m.retry_delay_max,
             "retryBackoff" => m.retry_backoff,
             "groupId" => m.group_id,
             "groupTier" => m.group_tier,
             "expireInSeconds" => m.expire_seconds,
             "deadLetter" => m.dead_letter,
             "heartbeatSeconds" => m.heartbeat_seconds)),
           array_agg(m.next_id), array_agg(m.created_on)
    into replacements, replacement_ids, places
    from moved m;
    if replacements is not null then
      -- Not due now: no wake-up; the fetch loops' polling finds it.
      perform private.pgboss_insert_rows('area.execute', replacements, false);
      -- pg-boss fetches oldest first: the event keeps its place in line.
      update pgboss.job j set created_on = p.created_on
      from unnest(replacement_ids, places) as p(id, created_on)
      where j.name = 'area.execute' and j.id = p.id;
    end if;
  end if;
  return query select unnest(admitted);
end
$$;
comment on function private.claim_execution_slots(jsonb, integer) is
  'Admits area.execute jobs [{id, retry_count}] (active, fetched at that attempt) to their group''s execution slots, at most `cap` of a group at once across all workers (under the group''s advisory lock; a slot is held while the job stays active in that attempt). Returns the ids admitted; the others of a group at its cap are deferred (completed, and replaced by a new job for the same event 0.2-0.4 s later, in the same place in line, spending no attempt). Errors: 22023 bad cap or jobs. Worker only.';

revoke all on function private.claim_execution_slots(jsonb, integer) from public, anon, authenticated;
grant execute on function private.claim_execution_slots(jsonb, integer) to service_role;
