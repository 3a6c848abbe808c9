-- The engine's SQL: enqueue() as boss.send(), event ingestion (atomic, deduplicated), the poll
-- baseline, execution bookkeeping, and the scheduler (exact slots, no double scheduling,
-- index use). pg-boss's behaviour on the jobs themselves is tested from Node (tests/enqueue.test.ts).
begin;
create extension if not exists pgtap with schema extensions;
select plan(41);
\ir fixtures.psql

-- enqueue ------------------------------------------------------------------------------------
select throws_ok($$select private.enqueue('no.such.queue', '{}')$$, '22023', 'queue: no.such.queue is not a pg-boss queue',
  'an unknown queue is named');
select throws_ok($$select private.enqueue('hook.poll', '{}', '{"startafter": 5}')$$, '22023',
  'options.startafter: is not a pg-boss send option', 'an unknown option is named (they are camelCase)');
select isnt(private.enqueue('hook.subscribe', '{"n": 1}'), null, 'enqueue returns the new job''s id');
select private.enqueue('area.execute', '{"n": "defaults"}') is not null as sent;
select results_eq(
  $$select retry_limit, retry_delay, retry_backoff, retry_delay_max, expire_seconds, heartbeat_seconds, dead_letter, policy
    from pgboss.job where name = 'area.execute' and data ->> 'n' = 'defaults'$$,
  $$select retry_limit, retry_delay, retry_backoff, retry_delay_max, expire_seconds, heartbeat_seconds, dead_letter, policy
    from pgboss.queue where name = 'area.execute'$$,
  'the queue''s retry, expiry, heartbeat, dead letter and policy apply');
create temporary table sent on commit drop as select
  private.enqueue('hook.subscribe', '{}', '{"startAfter": 90}') as in_90_seconds,
  private.enqueue('hook.subscribe', '{}', '{"startAfter": "2030-01-01T00:00:00Z"}') as at_2030,
  private.enqueue('hook.subscribe', '{}', '{"group": {"id": "user-1", "tier": "free"}}') as grouped;
select is((select start_after - created_on from pgboss.job where id = (select in_90_seconds from sent)),
  interval '90 seconds', 'a numeric startAfter is seconds from now');
select is((select start_after from pgboss.job where id = (select at_2030 from sent)),
  '2030-01-01T00:00:00Z'::timestamptz, 'an ISO startAfter is an instant');
select is((select group_id || '/' || group_tier from pgboss.job where id = (select grouped from sent)),
  'user-1/free', 'a group is stored as pg-boss stores it');
select isnt(private.enqueue('hook.poll', '{}', '{"singletonKey": "hook-1:0"}'), null, 'a first slot is queued');
select is(private.enqueue('hook.poll', '{}', '{"singletonKey": "hook-1:0"}'), null,
  'the same slot again is dropped by the queue''s exclusive policy');
select is((select count(*)::integer from private.enqueue_jobs('hook.subscribe',
  '[{"data": {"n": 1}}, {"data": {"n": 2}, "options": {"priority": 3}}]')), 2, 'enqueue_jobs sends many in one statement');

-- ingest_event -------------------------------------------------------------------------------
insert into public.areas (id, user_id, name, enabled) values
  ('f0000000-0000-4000-8000-0000000000f1', 'a0000000-0000-4000-8000-00000000000a', 'Hooked', false);
insert into public.area_actions (area_id, service_action_id)
select 'f0000000-0000-4000-8000-0000000000f1', id from public.service_actions where key = 'received';
insert into public.area_reactions (area_id, service_reaction_id, position)
select 'f0000000-0000-4000-8000-0000000000f1', id, 0 from public.service_reactions where key = 'request';
insert into public.area_reaction_param_values (area_reaction_id, param_id, value)
select r.id, p.id, '"https://example.org"' from public.area_reactions r
join public.service_reaction_params p on p.reaction_id = r.service_reaction_id and p.name = 'url'
where r.area_id = 'f0000000-0000-4000-8000-0000000000f1';
update public.areas set enabled = true where id = 'f0000000-0000-4000-8000-0000000000f1';
set constraints all immediate;
create temporary table hook on commit drop as
select id from public.hook_jobs where area_id = 'f0000000-0000-4000-8000-0000000000f1';

create temporary table first on commit drop as
select private.ingest_event((select id from hook), 'delivery-1', '{"body": {"text": "hi"}}') as result;
select is((select result ->> 'status' from first), 'accepted', 'a new event is accepted');
select is((select data from pgboss.job where id = (select (result ->> 'hook_log_id')::uuid from first)),
  jsonb_build_object('hookLogId', (select result ->> 'hook_log_id' from first)),
  'its area.execute job is queued in the same transaction, keyed by the event');
select is((select group_id from pgboss.job where id = (select (result ->> 'hook_log_id')::uuid from first)),
  'a0000000-0000-4000-8000-00000000000a', 'grouped by the AREA''s owner (one account cannot take every worker)');
select is(private.ingest_event((select id from hook), 'delivery-1', '{"body": {"text": "again"}}') ->> 'status', 'duplicate',
  'the same delivery again is a duplicate');
select is((select count(*)::integer from public.hook_logs where hook_job_id = (select id from hook)), 1,
  'a duplicate stores nothing');
select is((select count(*)::integer from pgboss.job where name = 'area.execute'
           and data ->> 'hookLogId' in (select id::text from public.hook_logs where hook_job_id = (select id from hook))), 1,
  'and enqueues nothing');
select is(private.ingest_event('f0000000-0000-4000-8000-000000000999', 'x', '{}') ->> 'status', 'unknown_hook',
  'an unknown hook is reported');
update public.areas set enabled = false where id = 'f0000000-0000-4000-8000-0000000000f1';
set constraints all immediate;
select is((select status::text from public.hook_jobs where id = (select id from hook)), 'paused', 'disabling pauses the hook');
select is(private.ingest_event((select id from hook), 'delivery-2', '{}') ->> 'status', 'inactive',
  'a paused hook stores nothing');
update public.areas set enabled = true where id = 'f0000000-0000-4000-8000-0000000000f1';
set constraints all immediate;

-- record_executions --------------------------------------------------------------------------
create temporary table event on commit drop as
select (result ->> 'hook_log_id')::uuid as id,
       (select id from public.area_reactions where area_id = 'f0000000-0000-4000-8000-0000000000f1') as reaction
from first;
select private.record_executions(jsonb_build_array(jsonb_build_object('hook_log_id', (select id from event), 'attempt', 1,
  'reactions', jsonb_build_array(jsonb_build_object('area_reaction_id', (select reaction from event), 'status', 'failed',
    'error_text', 'boom', 'started_at', now(), 'finished_at', now())),
  'outcome', 'failed', 'error_text', 'attempt 1 failed, will retry', 'started_at', now(), 'settled', false)));
select is((select processed from public.hook_logs where id = (select id from event)), false,
  'an attempt that will be retried leaves the event unprocessed');
select private.record_executions(jsonb_build_array(jsonb_build_object('hook_log_id', (select id from event), 'attempt', 2,
  'reactions', jsonb_build_array(jsonb_build_object('area_reaction_id', (select reaction from event), 'status', 'success',
    'response_payload', '{"status": 200}', 'started_at', now(), 'finished_at', now())),
  'outcome', 'success', 'error_text', null, 'started_at', now(), 'settled', true)));
select is((select array_agg(status::text || '@' || attempt order by area_reaction_id nulls first)
           from public.execution_logs where hook_log_id = (select id from event)),
  array['success@2', 'success@2'], 'a retry updates its rows (one per reaction and one for the action), attempt 2');
select is((select processed from public.hook_logs where id = (select id from event)), true, 'a settled event is processed');
create temporary table before_bump on commit drop as
select updated_at from public.areas where id = 'f0000000-0000-4000-8000-0000000000f1';
-- What the worker's counter flush does:
update public.areas set triggered_count = triggered_count + 3, last_triggered_at = now()
where id = 'f0000000-0000-4000-8000-0000000000f1';
set constraints all immediate;
select is((select updated_at from public.areas where id = 'f0000000-0000-4000-8000-0000000000f1'),
  (select updated_at from before_bump), 'a counter bump is activity, not a change: updated_at stays');
select is((select count(*)::integer from public.audit_logs where row_id = 'f0000000-0000-4000-8000-0000000000f1'
           and operation = 'UPDATE' and diff ? 'triggered_count'), 0, 'counter bumps are not audited as changes');

-- A provider refusing a connection's credentials (the worker sets needs_reconnect) pauses its AREAs.
set constraints all deferred; -- create_area writes the AREA before its action: checked at commit
set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
create temporary table vaulted on commit drop as
select (public.create_area($json${"name": "Vaulted", "enabled": true,
  "action": {"service": "vault", "name": "changed", "connection_id": "e0000000-0000-4000-8000-0000000000ea"},
  "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org"}}]}$json$) ->> 'id')::uuid as id;
reset role;
update public.user_services set status = 'needs_reconnect', last_error = 'HTTP 401 from the provider'
where id = 'e0000000-0000-4000-8000-0000000000ea';
select is((select enabled from public.areas where id = (select id from vaulted)), false,
  'an AREA whose connection the provider refused is paused');
select is((select paused_reason from public.areas where id = (select id from vaulted)),
  'its connection was refused by the provider (HTTP 401 from the provider): reconnect the account, then enable the AREA',
  'with a reason the user can read');

-- record_poll: the first poll after enabling is the baseline ---------------------------------
insert into public.areas (id, user_id, name, enabled) values
  ('f0000000-0000-4000-8000-0000000000f2', 'a0000000-0000-4000-8000-00000000000a', 'Polled', false);
insert into public.area_actions (area_id, service_action_id)
select 'f0000000-0000-4000-8000-0000000000f2', id from public.service_actions where key = 'every_interval';
insert into public.area_action_param_values (area_action_id, param_id, value)
select aa.id, p.id, '10' from public.area_actions aa
join public.service_action_params p on p.action_id = aa.service_action_id and p.name = 'seconds'
where aa.area_id = 'f0000000-0000-4000-8000-0000000000f2';
insert into public.area_reactions (area_id, service_reaction_id, position)
select 'f0000000-0000-4000-8000-0000000000f2', id, 0 from public.service_reactions where key = 'request';
insert into public.area_reaction_param_values (area_reaction_id, param_id, value)
select r.id, p.id, '"https://example.org"' from public.area_reactions r
join public.service_reaction_params p on p.reaction_id = r.service_reaction_id and p.name = 'url'
where r.area_id = 'f0000000-0000-4000-8000-0000000000f2';
update public.areas set enabled = true where id = 'f0000000-0000-4000-8000-0000000000f2';
set constraints all immediate;
create temporary table polled on commit drop as
select id from public.hook_jobs where area_id = 'f0000000-0000-4000-8000-0000000000f2';

select is(private.record_poll((select id from polled), '[{"dedupeKey": "old-1", "outputs": {}}]', '{"count": 0}') ->> 'status',
  'baseline', 'the first poll is the baseline');
select is((select count(*)::integer from public.hook_logs where hook_job_id = (select id from polled)), 0,
  'its items never fire');
select is(private.record_poll((select id from polled), '[{"dedupeKey": "new-1", "outputs": {}}, {"dedupeKey": "new-2", "outputs": {}}]',
  '{"count": 2}') -> 'accepted', '2'::jsonb, 'the next poll''s items become events');
select is((select state_value from public.hook_states where hook_job_id = (select id from polled) and state_key = 'cursor'),
  '{"count": 2}'::jsonb, 'and the cursor moves with them');
select is((select state_value from public.hook_states where hook_job_id = (select id from polled) and state_key = 'cursor'
           and private.record_poll((select id from polled), '[]', null) is not null), '{"count": 2}'::jsonb,
  'a poll without a new cursor keeps the old one');

-- schedule_polls -----------------------------------------------------------------------------
create function pg_temp.poll_offsets() returns integer[] language sql as $$
  select array_agg(extract(epoch from start_after - now())::integer order by start_after) from pgboss.job
  where name = 'hook.poll' and data ->> 'hookJobId' = (select id::text from polled) $$;
delete from pgboss.job where name = 'hook.poll';
update public.hook_jobs set next_run_at = now() + interval '3 seconds' where id = (select id from polled);
select is(private.schedule_polls(only_hooks => array[(select id from polled)]), 7,
  'a 10 s hook gets every slot of the 70 s window: 7 jobs');
select is(pg_temp.poll_offsets(), array[3, 13, 23, 33, 43, 53, 63], 'each at its exact due instant');
select is((select next_run_at from public.hook_jobs where id = (select id from polled)), now() + interval '73 seconds',
  'next_run_at moves past the window');
select is(private.schedule_polls(only_hooks => array[(select id from polled)]), 0, 'a repeated tick schedules nothing twice');
update public.hook_jobs set next_run_at = now() + interval '3 seconds' where id = (select id from polled);
select is(private.schedule_polls(only_hooks => array[(select id from polled)]), 0,
  'nor does a tick that sees the same slots again (an overlapping tick): the singleton keys drop them');
-- Each job is the very row boss.send() writes for it: private.enqueue() (pg-boss's insert over
-- JSON) with the same data and options gives the same columns, queue defaults included.
create temporary table scheduled_job on commit drop as
select to_jsonb(j) - '{id,created_on}'::text[] as job from pgboss.job j
where j.name = 'hook.poll' and j.data ->> 'hookJobId' = (select id::text from polled) order by j.start_after limit 1;
delete from pgboss.job where name = 'hook.poll';
create temporary table sent_job on commit drop as
select private.enqueue('hook.poll', job -> 'data',
                       jsonb_build_object('startAfter', job -> 'start_after', 'singletonKey', job -> 'singleton_key',
                                          'group', jsonb_build_object('id', (select id from polled)))) as id
from scheduled_job;
select is((select to_jsonb(j) - '{id,created_on}'::text[] from pgboss.job j where j.id = (select id from sent_job)),
  (select job from scheduled_job), 'each job is the row boss.send() writes (queue defaults, policy, group, singleton key)');
select throws_ok($$select private.schedule_polls(horizon => interval '0 seconds')$$, '22023',
  'horizon: must be positive, got 00:00:00', 'the horizon must be positive');
delete from pgboss.job where name = 'hook.poll';
update public.hook_jobs set next_run_at = now() - interval '1 hour' where id = (select id from polled);
select is(private.schedule_polls(only_hooks => array[(select id from polled)]), 7,
  'a hook an hour overdue is scheduled from now');
select is((pg_temp.poll_offsets())[1:2], array[0, 10], 'rather than firing every missed slot');
create function pg_temp.due_plan() returns setof text language plpgsql as $$
begin
  set local enable_seqscan = off; -- a handful of test rows would be scanned; the question is whether the index serves
  return query explain select h.id from public.hook_jobs h
    where h.status = 'active' and h.type = 'polling' and h.next_run_at < now() + interval '70 seconds';
end $$;
select ok((select bool_or(line ~ 'hook_jobs_due') from pg_temp.due_plan() line),
  'the scheduler''s predicate matches the hook_jobs_due partial index');

select * from finish();
rollback;
