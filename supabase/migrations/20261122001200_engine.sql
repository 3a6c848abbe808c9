-- The execution engine's SQL side: pg-boss queues and their policies, enqueue() (boss.send()
-- from SQL), event ingestion, the poll scheduler and its pg_cron tick.

-- pg-boss's PL/pgSQL functions name their objects schema-qualified; pinning their search_path
-- keeps them from resolving anything else. (job_now() stays as pg-boss made it: a SET clause
-- would stop the planner inlining it, which pg-boss relies on.)
alter function pgboss.create_queue(text, jsonb) set search_path = pgboss, pg_catalog;
alter function pgboss.delete_queue(text) set search_path = pgboss, pg_catalog;
alter function pgboss.job_table_format(text, text) set search_path = pgboss, pg_catalog;
alter function pgboss.job_table_run(text, text, text) set search_path = pgboss, pg_catalog;
alter function pgboss.job_table_run_async(text, integer, text, text, text) set search_path = pgboss, pg_catalog;

-- Queues. Policies are pg-boss's create_queue() options, so Node and SQL agree on them.
-- area.dead collects executions whose retries ran out; nobody consumes it, operators read it
-- (admin.dead_executions) and can replay from it.
select pgboss.create_queue('area.dead', '{"policy": "standard", "retentionSeconds": 2592000}');
-- One job per event. Retries back off exponentially up to 10 min; a worker that dies
-- mid-job stops its heartbeat and the job is retried within seconds, not after expiry.
select pgboss.create_queue('area.execute', '{
  "policy": "standard", "notify": true,
  "retryLimit": 5, "retryDelay": 5, "retryBackoff": true, "retryDelayMax": 600,
  "expireInSeconds": 300, "heartbeatSeconds": 10, "deadLetter": "area.dead"
}');
-- One job per hook and due instant (singleton key "<hook>:<epoch>"); "exclusive" keeps a slot
-- from being queued twice, the group (the hook) keeps one hook's polls from overlapping.
select pgboss.create_queue('hook.poll', '{
  "policy": "exclusive", "notify": true,
  "retryLimit": 2, "retryDelay": 5, "retryBackoff": true,
  "expireInSeconds": 120, "heartbeatSeconds": 10
}');
select pgboss.create_queue('hook.subscribe', '{
  "policy": "standard", "notify": true,
  "retryLimit": 5, "retryDelay": 10, "retryBackoff": true, "retryDelayMax": 900, "expireInSeconds": 120
}');
select pgboss.create_queue('hook.unsubscribe', '{
  "policy": "standard", "notify": true,
  "retryLimit": 5, "retryDelay": 10, "retryBackoff": true, "retryDelayMax": 900, "expireInSeconds": 120
}');

-- boss.send() from SQL, for many jobs at once: the same insert statement pg-boss runs (see
-- private.pgboss_insert), so queue defaults, policies, singleton and throttle indexes, groups
-- and the NOTIFY wake-up behave exactly as for a job sent from Node.
create function private.enqueue_jobs(queue text, jobs jsonb) returns setof uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  target record;
  bad_key text;
begin
  select q.name, q.partition, q.notify into target from pgboss.queue q where q.name = queue;
  if not found then
    raise exception 'queue: % is not a pg-boss queue', queue using errcode = '22023';
  elsif target.partition then
    raise exception 'queue: % is partitioned; enqueue() serves queues in pg-boss''s shared job table', queue
      using errcode = '22023';
  end if;
  if jsonb_typeof(jobs) <> 'array' then
    raise exception 'jobs: must be an array of {data, options}' using errcode = '22023';
  end if;
  select key into bad_key
  from jsonb_array_elements(jobs) j, jsonb_object_keys(coalesce(j -> 'options', '{}')) key
  where key not in ('id', 'priority', 'startAfter', 'singletonKey', 'singletonSeconds', 'group', 'retryLimit',
                    'retryDelay', 'retryBackoff', 'retryDelayMax', 'expireInSeconds', 'deleteAfterSeconds',
                    'retentionSeconds', 'deadLetter', 'heartbeatSeconds')
  limit 1;
  if bad_key is not null then
    raise exception 'options.%: is not a pg-boss send option', bad_key using errcode = '22023';
  end if;
  -- The job objects boss.send() builds (manager.js #toJobPayload): options plus data, the
  -- group split into id and tier.
  return query select private.pgboss_insert(target.name, (
    select coalesce(jsonb_agg(
      (coalesce(j -> 'options', '{}') - 'group')
      || jsonb_build_object('data', j -> 'data', 'singletonOffset', 0,
                            'groupId', j #> '{options,group,id}', 'groupTier', j #> '{options,group,tier}')), '[]')::text
    from jsonb_array_elements(jobs) j), target.notify);
end
$$;
comment on function private.enqueue_jobs(text, jsonb) is
  'Sends jobs [{data, options}] to a pg-boss queue as boss.send() does (options: pg-boss send options, camelCase). Returns the ids of the jobs created; a job dropped by a singleton policy returns none.';

create function private.enqueue(queue text, data jsonb default '{}', options jsonb default '{}') returns uuid
language sql
security definer
set search_path = ''
as $$
  select private.enqueue_jobs(queue, jsonb_build_array(jsonb_build_object('data', data, 'options', options)))
$$;
comment on function private.enqueue(text, jsonb, jsonb) is
  'boss.send(queue, data, options) from SQL: returns the job id, or null when a singleton policy dropped it.';

-- Stores detected events and enqueues their executions in the same transaction: an event is
-- either stored with its job, or not at all. The job id is the hook log id, so an execution is
-- queued at most once per event. Set-based: one insert into hook_logs and one pg-boss insert for
-- the whole batch instead of a chain of PL/pgSQL calls per event, which is what a busy webhook
-- endpoint pays for (the webhooks function stores deliveries that arrive together in one call,
-- the poller a poll's events). Same answers as the events stored one by one, in order: a key
-- repeated within the batch is a duplicate of its first occurrence. Everything is read in one
-- snapshot (one statement), so an event's answer and what was stored for it always agree.
create function private.ingest_events(events jsonb)
returns table (event_number integer, result jsonb)
language plpgsql
security definer
set search_path = ''
as $$
declare
  results jsonb[];
  jobs jsonb;
begin
  if jsonb_typeof(events) is distinct from 'array' then
    raise exception 'events: must be an array of {hook_job_id, dedupe_key, payload}' using errcode = '22023';
  end if;
  with input as (
    select e.n, h.id as hook_job_id, h.area_id, h.status, a.user_id,
           e.value ->> 'dedupe_key' as dedupe_key, e.value -> 'payload' as payload
    from jsonb_array_elements(events) with ordinality as e(value, n)
    left join public.hook_jobs h on h.id = (e.value ->> 'hook_job_id')::uuid
    left join public.areas a on a.id = h.area_id
  ),
  -- The first event of each (hook, key) of an active hook, with its hook log id drawn here, so
  -- that the ids the insert returns name the events that were stored.
  candidates as (
    select distinct on (hook_job_id, dedupe_key) n, gen_random_uuid() as id, hook_job_id, area_id, dedupe_key, payload
    from input where status = 'active'
    order by hook_job_id, dedupe_key, n
  ),
  inserted as (
    insert into public.hook_logs (id, hook_job_id, area_id, dedupe_key, event_payload)
    select id, hook_job_id, area_id, dedupe_key, payload from candidates order by n
    on conflict do nothing
    returning id
  ),
  stored as (
    select n, id from candidates where id in (select id from inserted)
  )
  select array_agg(case
           when s.id is not null then jsonb_build_object('status', 'accepted', 'hook_log_id', s.id)
           when i.hook_job_id is null then jsonb_build_object('status', 'unknown_hook')
           when i.status <> 'active' then jsonb_build_object('status', 'inactive')
           else jsonb_build_object('status', 'duplicate')
         end order by i.n),
         -- The job id is the hook log id: one execution per event at most.
         jsonb_agg(jsonb_build_object('data', jsonb_build_object('hookLogId', s.id),
                                      'options', jsonb_build_object('id', s.id, 'group', jsonb_build_object('id', i.user_id))))
           filter (where s.id is not null)
  into results, jobs
  from input i left join stored s using (n);
  if jobs is not null then
    perform private.enqueue_jobs('area.execute', jobs);
  end if;
  return query select r.n::integer, r.result from unnest(results) with ordinality as r(result, n);
end
$$;
comment on function private.ingest_events(jsonb) is
  'Stores events [{hook_job_id, dedupe_key, payload}] of active hooks (deduplicated on dedupe_key) and enqueues their area.execute jobs, set-based and atomically: one row per event (event_number = its 1-based position) with its result {status: accepted|duplicate|inactive|unknown_hook, hook_log_id}, a repeated key being a duplicate of its first occurrence.';
revoke all on function private.ingest_events(jsonb) from public, anon, authenticated;
grant execute on function private.ingest_events(jsonb) to service_role;

-- One event of ingest_events (the tests store single events with it).
create function private.ingest_event(hook_job_id uuid, dedupe_key text, payload jsonb)
returns jsonb
language sql
security definer
set search_path = ''
as $$
  -- A null payload stays a missing key (which hook_logs refuses), not a JSON null.
  select e.result from private.ingest_events(jsonb_build_array(
    jsonb_build_object('hook_job_id', hook_job_id, 'dedupe_key', dedupe_key)
    || case when payload is null then '{}' else jsonb_build_object('payload', payload) end)) e
$$;
comment on function private.ingest_event(uuid, text, jsonb) is
  'Stores an event of an active hook (deduplicated on dedupe_key) and enqueues its area.execute job atomically: one event of private.ingest_events. Returns {status: accepted|duplicate|inactive|unknown_hook, hook_log_id}.';

-- The end of one poll, in one transaction: the new events (dropped when this was the baseline
-- poll), then the cursor. A cursor never gets ahead of the events it covers.
create function private.record_poll(hook_job_id uuid, events jsonb, cursor jsonb) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  hook public.hook_jobs;
  baseline boolean;
  accepted integer := 0;
begin
  select * into hook from public.hook_jobs h where h.id = record_poll.hook_job_id for update;
  if not found or hook.status <> 'active' then
    return jsonb_build_object('status', 'inactive');
  end if;
  baseline := not exists (select from public.hook_states s
                          where s.hook_job_id = hook.id and s.area_id = hook.area_id and s.state_key = 'cursor');
  if not baseline then
    -- One call for the whole poll (a missing outputs stays a missing payload, which hook_logs refuses).
    select (count(*) filter (where i.result ->> 'status' = 'accepted'))::integer into accepted
    from private.ingest_events((
      select coalesce(jsonb_agg(jsonb_build_object('hook_job_id', hook.id, 'dedupe_key', e ->> 'dedupeKey')
                                || case when e -> 'outputs' is null then '{}'
                                        else jsonb_build_object('payload', e -> 'outputs') end
                                order by n), '[]')
      from jsonb_array_elements(events) with ordinality as x(e, n))) i;
  end if;
  insert into public.hook_states as s (hook_job_id, area_id, state_key, state_value, last_checked_at)
  values (hook.id, hook.area_id, 'cursor', cursor, now())
  on conflict on constraint hook_states_pkey do update
    set state_value = coalesce(excluded.state_value, s.state_value), last_checked_at = excluded.last_checked_at;
  update public.hook_jobs h set last_run_at = now(), error_count = 0, last_error = null where h.id = hook.id;
  return jsonb_build_object('status', case when baseline then 'baseline' else 'polled' end, 'accepted', accepted);
end
$$;
comment on function private.record_poll(uuid, jsonb, jsonb) is
  'Stores a poll''s events [{dedupeKey, outputs}] through ingest_events and then its cursor; the first poll after enabling only stores the cursor (baseline).';

-- What the worker writes while executing events: reaction rows as they finish (so a retry knows
-- which already succeeded), then the action row with the outcome and the event marked processed.
-- (The AREA's run counters are added up by the worker and written once a second: see
-- worker/src/counters.ts.) Rows are keyed by idempotency key: a retry updates its row (attempt n)
-- instead of adding one. Set-based: the worker writes what all its executions finishing at the
-- same moment have to record in one call, so a busy worker pays one round trip and one commit
-- for many events instead of one per event (worker/src/bookkeeping.ts).
create function private.record_executions(records jsonb) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if jsonb_typeof(records) is distinct from 'array' then
    raise exception 'records: must be an array of {hook_log_id, attempt, reactions, outcome, ...}' using errcode = '22023';
  end if;
  -- The settled events first: a hook log updated before the inserts below check their foreign
  -- key (FOR KEY SHARE) is already locked by this transaction, so the check adds no MultiXact.
  -- An attempt that will be retried leaves the event unprocessed: it is still owed an execution.
  update public.hook_logs l set processed = true, processed_at = now()
  from jsonb_to_recordset(records) as r(hook_log_id uuid, outcome public.execution_status, settled boolean)
  where l.id = r.hook_log_id and r.outcome is not null and coalesce(r.settled, true) and not l.processed;
  -- Reaction rows. An event deleted meanwhile (with its AREA) has no history to add to, and a
  -- reaction removed from its AREA none either. A key given twice keeps its last row.
  insert into public.execution_logs as e (area_id, area_action_id, area_reaction_id, hook_log_id, status, attempt,
                                          idempotency_key, request_payload, response_payload, error_text,
                                          started_at, finished_at)
  select distinct on (l.id, s.area_reaction_id)
         l.area_id, aa.id, s.area_reaction_id, l.id, s.status, r.attempt, l.id || ':' || s.area_reaction_id,
         s.request_payload, s.response_payload, s.error_text, s.started_at, s.finished_at
  from jsonb_array_elements(records) with ordinality as x(record, n)
  cross join lateral jsonb_to_record(x.record) as r(hook_log_id uuid, attempt integer, reactions jsonb)
  cross join lateral jsonb_array_elements(coalesce(r.reactions, '[]')) with ordinality as y(reaction, m)
  cross join lateral jsonb_to_record(y.reaction) as s(area_reaction_id uuid, status public.execution_status,
                                                      request_payload jsonb, response_payload jsonb, error_text text,
                                                      started_at timestamptz, finished_at timestamptz)
  join public.hook_logs l on l.id = r.hook_log_id
  join public.area_actions aa on aa.area_id = l.area_id
  where exists (select from public.area_reactions ar where ar.id = s.area_reaction_id)
  order by l.id, s.area_reaction_id, x.n desc, y.m desc
  on conflict (idempotency_key) do update
    set status = excluded.status, attempt = excluded.attempt, request_payload = excluded.request_payload,
        response_payload = excluded.response_payload, error_text = excluded.error_text,
        started_at = excluded.started_at, finished_at = excluded.finished_at;
  -- The action rows of the records carrying an outcome, keyed by the hook log id.
  insert into public.execution_logs as e (area_id, area_action_id, hook_log_id, status, attempt, idempotency_key,
                                          request_payload, error_text, started_at, finished_at)
  select distinct on (l.id)
         l.area_id, aa.id, l.id, r.outcome, r.attempt, l.id::text, l.event_payload, r.error_text,
         coalesce(r.started_at, now()), greatest(now(), coalesce(r.started_at, now()))
  from jsonb_array_elements(records) with ordinality as x(record, n)
  cross join lateral jsonb_to_record(x.record) as r(hook_log_id uuid, attempt integer, outcome public.execution_status,
                                                    error_text text, started_at timestamptz)
  join public.hook_logs l on l.id = r.hook_log_id
  join public.area_actions aa on aa.area_id = l.area_id
  where r.outcome is not null
  order by l.id, x.n desc
  on conflict (idempotency_key) do update
    set status = excluded.status, attempt = excluded.attempt, error_text = excluded.error_text,
        started_at = excluded.started_at, finished_at = excluded.finished_at;
end
$$;
comment on function private.record_executions(jsonb) is
  'Worker bookkeeping for many events at once: records [{hook_log_id, attempt, reactions: [{area_reaction_id, status, request_payload, response_payload, error_text, started_at, finished_at}], outcome, error_text, started_at, settled}]. Upserts the reaction rows; with an outcome, also the action row; when settled (the default; false when a retry follows) marks the event processed. Events deleted meanwhile are skipped.';

-- Enqueues a hook.poll job for every due slot of every active polling hook up to now() + horizon,
-- and moves next_run_at past the window, in one statement. A hook that missed more than one
-- interval (the scheduler was down) restarts from now instead of firing every missed slot.
-- Hooks locked by another transaction are skipped: the next tick takes them (no tick waits on
-- an open transaction, none schedules a slot twice). The jobs are built as rows and inserted by
-- pg-boss's own insert (private.pgboss_insert_rows): one tick may enqueue 100k jobs, and going
-- through one large JSON text (private.enqueue_jobs) would cost more than the insert itself.
create function private.schedule_polls(horizon interval default '70 seconds', only_hooks uuid[] default null)
returns integer
language plpgsql
security definer
set search_path = ''
set jit = off -- generate_series() misleads the planner into JIT-compiling a plan that runs in milliseconds
as $$
declare
  window_end timestamptz := now() + horizon;
  poll_queue record;
  scheduled integer;
begin
  if not horizon > interval '0' then
    raise exception 'horizon: must be positive, got %', horizon using errcode = '22023';
  end if;
  select q.name, q.notify into strict poll_queue from pgboss.queue q where q.name = 'hook.poll';
  with due as (
    select h.id, h.polling_interval_seconds * interval '1 second' as step,
           case when h.next_run_at < now() - h.polling_interval_seconds * interval '1 second' then now()
                else h.next_run_at end as first_slot
    from public.hook_jobs h
    where h.status = 'active' and h.type = 'polling' and h.next_run_at < window_end
      and (only_hooks is null or h.id = any (only_hooks))
    for update skip locked
  ),
  -- Slots first_slot + n * step for n in [0, slots), the last one before window_end.
  counted as (
    select due.*, ceil(extract(epoch from window_end - due.first_slot) / extract(epoch from due.step))::integer as slots
    from due
  ),
  advanced as (
    update public.hook_jobs h set next_run_at = counted.first_slot + counted.slots * counted.step
    from counted
    where h.id = counted.id
  )
  select count(*) into scheduled
  from private.pgboss_insert_rows(poll_queue.name, array(
    select private.pgboss_job_row(
             data => jsonb_build_object('hookJobId', counted.id, 'scheduledAt', slot.at),
             -- pg-boss reads an ISO 8601 instant (as JavaScript's toISOString() writes it), whatever the DateStyle.
             "startAfter" => to_char(slot.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             "singletonKey" => counted.id::text || ':' || extract(epoch from slot.at),
             "singletonOffset" => 0,
             "groupId" => counted.id::text)
    from counted, generate_series(0, counted.slots - 1) n,
         lateral (select counted.first_slot + n * counted.step as at) slot), poll_queue.notify);
  return scheduled;
end
$$;
comment on function private.schedule_polls(interval, uuid[]) is
  'Scheduler tick: enqueues hook.poll jobs at each exact due instant up to now()+horizon (singleton per hook and slot) and advances next_run_at. Returns the number of jobs enqueued.';

select cron.schedule('area-schedule-polls', '* * * * *', 'select private.schedule_polls()');

revoke all on function private.enqueue_jobs(text, jsonb), private.enqueue(text, jsonb, jsonb),
  private.ingest_event(uuid, text, jsonb), private.record_poll(uuid, jsonb, jsonb),
  private.record_executions(jsonb), private.schedule_polls(interval, uuid[]) from public, anon, authenticated;
grant execute on function private.enqueue_jobs(text, jsonb), private.enqueue(text, jsonb, jsonb),
  private.ingest_event(uuid, text, jsonb), private.record_poll(uuid, jsonb, jsonb),
  private.record_executions(jsonb), private.schedule_polls(interval, uuid[]) to service_role;

-- A hook job with everything its handlers read (the webhooks function to verify a delivery,
-- the worker to poll or register it): service and action keys, params by name, the secret.
create view private.hook_job_details as
select h.id, h.area_id, h.status, h.type, s.key as service, sa.key as action, h.user_service_id as connection_id,
       coalesce((select jsonb_object_agg(p.name, v.value)
                 from public.area_action_param_values v join public.service_action_params p on p.id = v.param_id
                 where v.area_action_id = h.area_action_id), '{}') as params,
       h.webhook_endpoint, h.subscription_state, h.provider_subscription_id,
       k.key_id as secret_key_id, k.secret
from public.hook_jobs h
join public.service_actions sa on sa.id = h.service_action_id
join public.services s on s.id = sa.service_id
left join private.hook_job_secrets k on k.hook_job_id = h.id;
comment on view private.hook_job_details is
  'Hook jobs with their service and action keys, params by name and webhook secret (sealed unless secret_key_id is null), as the webhooks function and the worker read them.';

-- Operator views over the queues.
create view admin.queue_depth with (security_invoker = true) as
select j.name as queue, j.state, count(*) as jobs,
       count(*) filter (where j.start_after <= now()) as due_now,
       min(j.created_on) as oldest_created_at
from pgboss.job j
group by j.name, j.state;
comment on view admin.queue_depth is 'Jobs per pg-boss queue and state (created, retry, active, completed, cancelled, failed); due_now counts those whose start_after has passed.';

create view admin.dead_executions with (security_invoker = true) as
select j.id as job_id, (j.data ->> 'hookLogId')::uuid as hook_log_id, l.area_id, a.name as area_name, a.user_id,
       j.created_on as dead_since, j.source_id as failed_job_id,
       (select e.error_text from public.execution_logs e
        where e.hook_log_id = l.id and e.area_reaction_id is null order by e.started_at desc limit 1) as last_error
from pgboss.job j
left join public.hook_logs l on l.id = (j.data ->> 'hookLogId')::uuid
left join public.areas a on a.id = l.area_id
where j.name = 'area.dead';
comment on view admin.dead_executions is 'Executions whose retries ran out (queue area.dead), with their AREA and last error.';
