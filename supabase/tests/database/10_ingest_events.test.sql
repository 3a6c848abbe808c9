-- private.ingest_events: how the webhooks function (a batch of deliveries) and the poller (a poll) store events.
-- Same answers as ingest_event called in order, each event stored with its job or not at all.
begin;
create extension if not exists pgtap with schema extensions;
select plan(13);
\ir fixtures.psql

-- Two webhook AREAs of alice: one stays enabled, the other is disabled before ingesting.
insert into public.areas (id, user_id, name, enabled) values
  ('f0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-00000000000a', 'Batched', false),
  ('f0000000-0000-4000-8000-0000000000a2', 'a0000000-0000-4000-8000-00000000000a', 'Paused', false);
insert into public.area_actions (area_id, service_action_id)
select a.id, sa.id from public.service_actions sa,
  (values ('f0000000-0000-4000-8000-0000000000a1'::uuid), ('f0000000-0000-4000-8000-0000000000a2')) as a(id)
where sa.key = 'received';
insert into public.area_reactions (area_id, service_reaction_id, position)
select a.id, sr.id, 0 from public.service_reactions sr,
  (values ('f0000000-0000-4000-8000-0000000000a1'::uuid), ('f0000000-0000-4000-8000-0000000000a2')) as a(id)
where sr.key = 'request';
insert into public.area_reaction_param_values (area_reaction_id, param_id, value)
select r.id, p.id, '"https://example.org"' from public.area_reactions r
join public.service_reaction_params p on p.reaction_id = r.service_reaction_id and p.name = 'url'
where r.area_id in ('f0000000-0000-4000-8000-0000000000a1', 'f0000000-0000-4000-8000-0000000000a2');
update public.areas set enabled = true
where id in ('f0000000-0000-4000-8000-0000000000a1', 'f0000000-0000-4000-8000-0000000000a2');
set constraints all immediate;
update public.areas set enabled = false where id = 'f0000000-0000-4000-8000-0000000000a2';
set constraints all immediate;
create temporary table hooks on commit drop as
select (select id from public.hook_jobs where area_id = 'f0000000-0000-4000-8000-0000000000a1') as active,
       (select id from public.hook_jobs where area_id = 'f0000000-0000-4000-8000-0000000000a2') as paused;

create temporary table stored_before on commit drop as
select private.ingest_event((select active from hooks), 'stored-before', '{"n": 0}') as result;

create temporary table answers on commit drop as
select * from private.ingest_events((select jsonb_build_array(
  jsonb_build_object('hook_job_id', active, 'dedupe_key', 'k1', 'payload', '{"n": 1}'::jsonb),
  jsonb_build_object('hook_job_id', active, 'dedupe_key', 'k1', 'payload', '{"n": 2}'::jsonb),
  jsonb_build_object('hook_job_id', active, 'dedupe_key', 'stored-before', 'payload', '{"n": 3}'::jsonb),
  jsonb_build_object('hook_job_id', paused, 'dedupe_key', 'k2', 'payload', '{"n": 4}'::jsonb),
  jsonb_build_object('hook_job_id', 'f0000000-0000-4000-8000-000000000999', 'dedupe_key', 'k3', 'payload', '{}'::jsonb),
  jsonb_build_object('hook_job_id', active, 'dedupe_key', 'k4', 'payload', '{"n": 5}'::jsonb)) from hooks));

select is((select array_agg(event_number order by event_number) from answers), array[1, 2, 3, 4, 5, 6],
  'one answer per event, numbered by position');
select is((select array_agg(result ->> 'status' order by event_number) from answers),
  array['accepted', 'duplicate', 'duplicate', 'inactive', 'unknown_hook', 'accepted'],
  'the answers ingest_event would give in order');
select is((select event_payload from public.hook_logs where id = (select (result ->> 'hook_log_id')::uuid from answers where event_number = 1)),
  '{"n": 1}'::jsonb, 'a key repeated within the batch keeps its first event');
select is((select count(*)::integer from public.hook_logs where hook_job_id = (select active from hooks)), 3,
  'only the accepted events are stored (and the one stored before)');
select is((select count(*)::integer from public.hook_logs where hook_job_id = (select paused from hooks)), 0,
  'a paused hook stores nothing');
select is((select count(*)::integer from pgboss.job j join answers a on j.id = (a.result ->> 'hook_log_id')::uuid
           where j.name = 'area.execute' and j.data ->> 'hookLogId' = a.result ->> 'hook_log_id'
             and j.group_id = 'a0000000-0000-4000-8000-00000000000a'), 2,
  'each accepted event has its area.execute job, keyed by the event and grouped by the owner');
select is((select count(*)::integer from pgboss.job where name = 'area.execute'
           and data ->> 'hookLogId' in (select id::text from public.hook_logs
                                        where hook_job_id = (select active from hooks) and dedupe_key = 'stored-before')), 1,
  'a duplicate enqueues nothing more');

select is((select result ->> 'status' from private.ingest_events((select jsonb_build_array(
  jsonb_build_object('hook_job_id', active, 'dedupe_key', 'k4', 'payload', '{}'::jsonb)) from hooks))), 'duplicate',
  'a key stored by an earlier batch is a duplicate');
select is((select count(*)::integer from private.ingest_events('[]')), 0, 'an empty batch answers nothing');
select throws_ok($$select * from private.ingest_events('{}')$$, '22023',
  'events: must be an array of {hook_job_id, dedupe_key, payload}', 'events must be an array');

-- All or nothing: an event the table refuses (a dedupe key over 512 characters) stores none of its batch.
select throws_ok(format($$select * from private.ingest_events(jsonb_build_array(
    jsonb_build_object('hook_job_id', %L, 'dedupe_key', 'k5', 'payload', '{}'::jsonb),
    jsonb_build_object('hook_job_id', %L, 'dedupe_key', repeat('x', 513), 'payload', '{}'::jsonb)))$$,
  (select active from hooks), (select active from hooks)), '23514', null, 'an event the table refuses fails the batch');
select is((select count(*)::integer from public.hook_logs where dedupe_key = 'k5'), 0, 'and stores none of its events');

select ok(not has_function_privilege('authenticated', 'private.ingest_events(jsonb)', 'execute')
          and not has_function_privilege('anon', 'private.ingest_events(jsonb)', 'execute'),
  'clients cannot call it');

select * from finish();
rollback;
