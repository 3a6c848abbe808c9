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

-- Stores one detected event and enqueues its execution in the same transaction: an event is
-- either stored with its job, or not at all. The job id is the hook log id, so an execution
-- is queued at most once per event.
create function private.ingest_event(hook_job_id uuid, dedupe_key text, payload jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  hook record;
  log_id uuid;
begin
  select h.id, h.area_id, h.status, a.user_id into hook
  from public.hook_jobs h join public.areas a on a.id = h.area_id
  where h.id = ingest_event.hook_job_id;
  if not found then
    return jsonb_build_object('status', 'unknown_hook');
  elsif hook.status <> 'active' then
    return jsonb_build_object('status', 'inactive');
  end if;
  insert into public.hook_logs (hook_job_id, area_id, dedupe_key, event_payload)
  values (hook.id, hook.area_id, ingest_event.dedupe_key, payload)
  on conflict do nothing
  returning id into log_id;
  if log_id is null then
    return jsonb_build_object('status', 'duplicate');
  end if;
  perform private.enqueue('area.execute', jsonb_build_object('hookLogId', log_id),
                          jsonb_build_object('id', log_id, 'group', jsonb_build_object('id', hook.user_id)));
  return jsonb_build_object('status', 'accepted', 'hook_log_id', log_id);
end
$$;
comment on function private.ingest_event(uuid, text, jsonb) is
  'Stores an event of an active hook (deduplicated on dedupe_key) and enqueues its area.execute job atomically. Returns {status: accepted|duplicate|inactive|unknown_hook, hook_log_id}.';

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
  event jsonb;
  accepted integer := 0;
begin
  select * into hook from public.hook_jobs h where h.id = record_poll.hook_job_id for update;
  if not found or hook.status <> 'active' then
    return jsonb_build_object('status', 'inactive');
  end if;
  baseline := not exists (select from public.hook_states s
                          where s.hook_job_id = hook.id and s.area_id = hook.area_id and s.state_key = 'cursor');
  if not baseline then
    for event in select * from jsonb_array_elements(events) loop
      if private.ingest_event(hook.id, event ->> 'dedupeKey', event -> 'outputs') ->> 'status' = 'accepted' then
        accepted := accepted + 1;
      end if;
    end loop;
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
  'Stores a poll''s events [{dedupeKey, outputs}] through ingest_event and then its cursor; the first poll after enabling only stores the cursor (baseline).';

-- What the worker writes while executing an event, one call per step: reaction rows as they
-- finish (so a retry knows which already succeeded), then the action row with the outcome and
-- the event marked processed. (The AREA's run counters are added up by the worker and written
-- once a second: see worker/src/counters.ts.) Rows are keyed by idempotency key:
-- a retry updates its row (attempt n) instead of adding one.
create function private.record_execution(hook_log_id uuid, attempt integer, reactions jsonb,
                                         outcome public.execution_status default null, error_text text default null,
                                         started_at timestamptz default null, settled boolean default true)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  event record;
begin
  select l.id, l.area_id, l.received_at, aa.id as area_action_id into event
  from public.hook_logs l join public.area_actions aa on aa.area_id = l.area_id
  where l.id = record_execution.hook_log_id;
  if not found then
    return; -- the AREA was deleted meanwhile: its history went with it
  end if;
  insert into public.execution_logs as e (area_id, area_action_id, area_reaction_id, hook_log_id, status, attempt,
                                          idempotency_key, request_payload, response_payload, error_text,
                                          started_at, finished_at)
  select event.area_id, event.area_action_id, r.area_reaction_id, event.id, r.status, record_execution.attempt,
         event.id || ':' || r.area_reaction_id, r.request_payload, r.response_payload, r.error_text,
         r.started_at, r.finished_at
  from jsonb_to_recordset(reactions) as r(area_reaction_id uuid, status public.execution_status,
                                          request_payload jsonb, response_payload jsonb, error_text text,
                                          started_at timestamptz, finished_at timestamptz)
  where exists (select from public.area_reactions ar where ar.id = r.area_reaction_id)
  on conflict (idempotency_key) do update
    set status = excluded.status, attempt = excluded.attempt, request_payload = excluded.request_payload,
        response_payload = excluded.response_payload, error_text = excluded.error_text,
        started_at = excluded.started_at, finished_at = excluded.finished_at;
  if outcome is null then
    return;
  end if;
  insert into public.execution_logs as e (area_id, area_action_id, hook_log_id, status, attempt, idempotency_key,
                                          request_payload, error_text, started_at, finished_at)
  select event.area_id, event.area_action_id, event.id, outcome, record_execution.attempt, event.id::text,
         l.event_payload, record_execution.error_text, coalesce(record_execution.started_at, now()),
         greatest(now(), coalesce(record_execution.started_at, now()))
  from public.hook_logs l where l.id = event.id
  on conflict (idempotency_key) do update
    set status = excluded.status, attempt = excluded.attempt, error_text = excluded.error_text,
        started_at = excluded.started_at, finished_at = excluded.finished_at;
  -- An attempt that will be retried leaves the event unprocessed: it is still owed an execution.
  if settled then
    update public.hook_logs l set processed = true, processed_at = now() where l.id = event.id and not l.processed;
  end if;
end
$$;
comment on function private.record_execution(uuid, integer, jsonb, public.execution_status, text, timestamptz, boolean) is
  'Worker bookkeeping for one event: upserts reaction rows [{area_reaction_id, status, request_payload, response_payload, error_text, started_at, finished_at}]; with an outcome, also the action row; when settled (no retry follows) marks the event processed.';

-- Enqueues a hook.poll job for every due slot of every active polling hook up to now() + horizon,
-- in one statement, and moves next_run_at past the window. A hook that missed more than one
-- interval (the scheduler was down) restarts from now instead of firing every missed slot.
create function private.schedule_polls(horizon interval default '70 seconds', only_hooks uuid[] default null)
returns integer
language plpgsql
security definer
set search_path = ''
set jit = off -- generate_series() misleads the planner into JIT-compiling a plan that runs in milliseconds
as $$
declare
  window_end timestamptz := now() + horizon;
  scheduled integer;
begin
  with due as (
    select h.id, h.polling_interval_seconds * interval '1 second' as step,
           case when h.next_run_at < now() - h.polling_interval_seconds * interval '1 second' then now()
                else h.next_run_at end as first_slot
    from public.hook_jobs h
    where h.status = 'active' and h.type = 'polling' and h.next_run_at < window_end
      and (only_hooks is null or h.id = any (only_hooks))
    for update skip locked
  ),
  slots as (
    select due.id, slot
    from due, generate_series(due.first_slot, window_end - interval '1 microsecond', due.step) slot
  ),
  advanced as (
    update public.hook_jobs h set next_run_at = latest.slot + due.step
    from due, (select id, max(slot) as slot from slots group by id) latest
    where h.id = due.id and latest.id = due.id
  )
  select count(*) into scheduled from private.enqueue_jobs('hook.poll', (
    select coalesce(jsonb_agg(jsonb_build_object(
      'data', jsonb_build_object('hookJobId', id, 'scheduledAt', slot),
      'options', jsonb_build_object('startAfter', slot, 'singletonKey', id::text || ':' || extract(epoch from slot),
                                    'group', jsonb_build_object('id', id)))), '[]')
    from slots));
  return scheduled;
end
$$;
comment on function private.schedule_polls(interval, uuid[]) is
  'Scheduler tick: enqueues hook.poll jobs at each exact due instant up to now()+horizon (singleton per hook and slot) and advances next_run_at. Returns the number of jobs enqueued.';

select cron.schedule('area-schedule-polls', '* * * * *', 'select private.schedule_polls()');

revoke all on function private.enqueue_jobs(text, jsonb), private.enqueue(text, jsonb, jsonb),
  private.ingest_event(uuid, text, jsonb), private.record_poll(uuid, jsonb, jsonb),
  private.record_execution(uuid, integer, jsonb, public.execution_status, text, timestamptz, boolean),
  private.schedule_polls(interval, uuid[]) from public, anon, authenticated;
grant execute on function private.enqueue_jobs(text, jsonb), private.enqueue(text, jsonb, jsonb),
  private.ingest_event(uuid, text, jsonb), private.record_poll(uuid, jsonb, jsonb),
  private.record_execution(uuid, integer, jsonb, public.execution_status, text, timestamptz, boolean),
  private.schedule_polls(interval, uuid[]) to service_role;

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
