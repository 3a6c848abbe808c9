-- private.record_executions: the worker's bookkeeping for many events in one call (one round
-- trip, one commit), exactly what the same records written one by one would leave.
-- (One record per call is covered in 09_engine.test.sql.)
begin;
create extension if not exists pgtap with schema extensions;
select plan(9);
\ir fixtures.psql

-- An enabled webhook AREA with two reactions, and three events.
insert into public.areas (id, user_id, name, enabled) values
  ('f0000000-0000-4000-8000-0000000000e1', 'a0000000-0000-4000-8000-00000000000a', 'Recorded', false);
insert into public.area_actions (area_id, service_action_id)
select 'f0000000-0000-4000-8000-0000000000e1', id from public.service_actions where key = 'received';
insert into public.area_reactions (area_id, service_reaction_id, position)
select 'f0000000-0000-4000-8000-0000000000e1', id, n from public.service_reactions, generate_series(0, 1) n
where key = 'request';
insert into public.area_reaction_param_values (area_reaction_id, param_id, value)
select r.id, p.id, '"https://example.org"' from public.area_reactions r
join public.service_reaction_params p on p.reaction_id = r.service_reaction_id and p.name = 'url'
where r.area_id = 'f0000000-0000-4000-8000-0000000000e1';
update public.areas set enabled = true where id = 'f0000000-0000-4000-8000-0000000000e1';
set constraints all immediate;
create temporary table reaction on commit drop as
select id, position from public.area_reactions where area_id = 'f0000000-0000-4000-8000-0000000000e1';
create temporary table event on commit drop as
select n, (private.ingest_event((select id from public.hook_jobs where area_id = 'f0000000-0000-4000-8000-0000000000e1'),
                                'delivery-' || n, jsonb_build_object('n', n)) ->> 'hook_log_id')::uuid as id
from generate_series(1, 3) n;

create function pg_temp.step(reaction_position integer, status text, detail text) returns jsonb language sql as $$
  select jsonb_build_object('area_reaction_id', (select id from reaction where position = reaction_position),
    'status', status, 'error_text', detail, 'started_at', now(), 'finished_at', now())
$$;
create function pg_temp.rows_of(event_n integer) returns text[] language sql as $$
  select array_agg(coalesce(r.position::text, 'action') || ':' || e.status || '@' || e.attempt
                   order by r.position nulls first)
  from public.execution_logs e left join reaction r on r.id = e.area_reaction_id
  where e.hook_log_id = (select id from event where n = event_n)
$$;

select throws_ok($$select private.record_executions('{}')$$, '22023',
  'records: must be an array of {hook_log_id, attempt, reactions, outcome, ...}', 'records must be an array');

-- One call: event 1 finishes, event 2 records its first reaction only (a step), event 3 fails
-- and will be retried, and an event deleted meanwhile is skipped.
select private.record_executions(jsonb_build_array(
  jsonb_build_object('hook_log_id', (select id from event where n = 1), 'attempt', 1,
    'reactions', jsonb_build_array(pg_temp.step(0, 'success', null), pg_temp.step(1, 'success', null)),
    'outcome', 'success', 'started_at', now()),
  jsonb_build_object('hook_log_id', (select id from event where n = 2), 'attempt', 1,
    'reactions', jsonb_build_array(pg_temp.step(0, 'success', null))),
  jsonb_build_object('hook_log_id', (select id from event where n = 3), 'attempt', 1,
    'reactions', jsonb_build_array(pg_temp.step(0, 'failed', 'HTTP 503')),
    'outcome', 'failed', 'error_text', 'attempt 1 failed, will retry', 'started_at', now(), 'settled', false),
  jsonb_build_object('hook_log_id', gen_random_uuid(), 'attempt', 1, 'reactions', '[]', 'outcome', 'success')));
select is(pg_temp.rows_of(1), array['action:success@1', '0:success@1', '1:success@1'],
  'a finished event gets its reaction rows and its action row');
select is(pg_temp.rows_of(2), array['0:success@1'], 'a step without an outcome writes its reaction rows only');
select is(pg_temp.rows_of(3), array['action:failed@1', '0:failed@1'], 'a failed attempt is recorded');
select is((select array_agg(processed order by n) from event join public.hook_logs l using (id)), array[true, false, false],
  'only the settled event is processed (a step or an attempt to be retried leaves it owed)');

-- The same keys twice in one call (a retry's rows and the next attempt's): the last one wins.
select private.record_executions(jsonb_build_array(
  jsonb_build_object('hook_log_id', (select id from event where n = 3), 'attempt', 2,
    'reactions', jsonb_build_array(pg_temp.step(0, 'failed', 'HTTP 503')), 'outcome', 'failed', 'settled', false),
  jsonb_build_object('hook_log_id', (select id from event where n = 3), 'attempt', 3,
    'reactions', jsonb_build_array(pg_temp.step(0, 'success', null), pg_temp.step(1, 'success', null)),
    'outcome', 'success')));
select is(pg_temp.rows_of(3), array['action:success@3', '0:success@3', '1:success@3'],
  'a key given twice keeps its last row, and a retry updates the rows instead of adding');
select is((select processed from public.hook_logs where id = (select id from event where n = 3)), true,
  'the settled retry marks its event processed');
select is((select error_text from public.execution_logs
           where hook_log_id = (select id from event where n = 3) and area_reaction_id is null), null,
  'the action row carries the last outcome''s error (none)');
select is((select count(*)::integer from public.execution_logs
           where area_id = 'f0000000-0000-4000-8000-0000000000e1'), 7, 'no other rows were written');

select * from finish();
rollback;
