-- The RLS matrix: anon, alice, bob, an admin and the service role × every table clients can
-- name × select/insert/update/delete, with the outcome each must get. Each probe runs in a
-- subtransaction that is rolled back, so probes do not affect one another.
--   rows:N  the statement ran and touched (or returned) N rows
--   denied  permission denied or an RLS check failed (42501)
--   error:X another error, X its SQLSTATE (it got past the privileges; e.g. 23505 duplicate,
--           23503 a catalogue row still in use)
-- Users see nothing of other users' AREAs, so an INSERT … SELECT aimed at them finds no rows.
begin;
create extension if not exists pgtap with schema extensions;
select plan(400);
\ir fixtures.psql

-- alice: a timer AREA storing into her vault, plus a draft with no action yet; bob: a timer AREA calling http.
set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select public.create_area($json${"name": "Alice", "enabled": true,
  "action": {"service": "timer", "name": "every_interval", "params": {"seconds": 60}},
  "reactions": [{"service": "vault", "name": "store", "connection_id": "e0000000-0000-4000-8000-0000000000ea",
                 "params": {"token": "t0k3n"}}]}$json$) is not null as alice_created;
insert into public.areas (id, name) values ('f0000000-0000-4000-8000-0000000000fa', 'Alice draft');
set local request.jwt.claims to '{"sub": "b0000000-0000-4000-8000-00000000000b", "role": "authenticated"}';
select public.create_area($json${"name": "Bob", "enabled": true,
  "action": {"service": "timer", "name": "every_interval", "params": {"seconds": 60}},
  "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org"}}]}$json$) is not null as bob_created;
reset role;

-- What AREA itself writes: one event, one state and one execution row per AREA; retired catalogue rows.
insert into public.hook_logs (hook_job_id, area_id, dedupe_key, event_payload)
select id, area_id, 'event-1', '{}' from public.hook_jobs;
insert into public.hook_states (hook_job_id, area_id, state_key, state_value)
select id, area_id, 'cursor', '1' from public.hook_jobs;
insert into public.execution_logs (area_id, area_action_id, hook_log_id, idempotency_key)
select l.area_id, h.area_action_id, l.id, l.id || ':action' from public.hook_logs l join public.hook_jobs h on h.id = l.hook_job_id;
insert into public.services (key, name, active) values ('legacy', 'Legacy', false);
insert into public.service_actions (service_id, key, name, polling_supported, webhook_supported, active)
values ('d0000000-0000-4000-8000-0000000000d1', 'retired', 'Retired', false, true, false);

create function pg_temp.probe(who text, statement text) returns text
language plpgsql
as $$
declare
  n bigint;
begin
  begin
    perform set_config('role', case who when 'anon' then 'anon' when 'service' then 'service_role' else 'authenticated' end, true);
    perform set_config('request.jwt.claims', case who
      when 'anon' then '{"role": "anon"}'
      when 'service' then '{"role": "service_role"}'
      when 'alice' then '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}'
      when 'bob' then '{"sub": "b0000000-0000-4000-8000-00000000000b", "role": "authenticated"}'
      when 'admin' then '{"sub": "c0000000-0000-4000-8000-00000000000c", "role": "authenticated", "app_metadata": {"role": "admin"}}'
    end, true);
    execute statement;
    get diagnostics n = row_count;
    raise exception using errcode = 'PT000', message = n;
  exception
    when sqlstate 'PT000' then return 'rows:' || sqlerrm;
    when insufficient_privilege then return 'denied';
    when others then return 'error:' || sqlstate;
  end;
end
$$;

create temporary table matrix (tbl text, op text, stmt text, anon text, alice text, bob text, admin text, service text);
insert into matrix values
  ('profiles', 'select', $$select * from public.profiles where id in ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000b')$$,
    'denied', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('profiles', 'insert', $$insert into public.profiles (id) values ('a0000000-0000-4000-8000-00000000000a')$$,
    'denied', 'denied', 'denied', 'denied', 'error:23505'),
  ('profiles', 'update', $$update public.profiles set display_name = 'X' where id = 'a0000000-0000-4000-8000-00000000000a'$$,
    'denied', 'rows:1', 'rows:0', 'rows:0', 'rows:1'),
  ('profiles', 'delete', $$delete from public.profiles where id = 'a0000000-0000-4000-8000-00000000000a'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),

  ('services', 'select', $$select * from public.services where key in ('vault', 'legacy')$$,
    'rows:1', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('services', 'insert', $$insert into public.services (key, name) values ('extra', 'Extra')$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('services', 'update', $$update public.services set name = name where key = 'vault'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('services', 'delete', $$delete from public.services where key = 'legacy'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),

  ('service_actions', 'select', $$select * from public.service_actions where key in ('changed', 'retired')$$,
    'rows:1', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('service_actions', 'insert', $$insert into public.service_actions (service_id, key, name, polling_supported, webhook_supported) values ('d0000000-0000-4000-8000-0000000000d1', 'extra', 'Extra', false, true)$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('service_actions', 'update', $$update public.service_actions set name = name where key = 'changed'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('service_actions', 'delete', $$delete from public.service_actions where key = 'retired'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),

  ('service_reactions', 'select', $$select * from public.service_reactions where service_id = 'd0000000-0000-4000-8000-0000000000d1'$$,
    'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1'),
  ('service_reactions', 'insert', $$insert into public.service_reactions (service_id, key, name) values ('d0000000-0000-4000-8000-0000000000d1', 'extra', 'Extra')$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('service_reactions', 'update', $$update public.service_reactions set name = name where key = 'store'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('service_reactions', 'delete', $$delete from public.service_reactions where key = 'store'$$,
    'denied', 'denied', 'denied', 'denied', 'error:23503'),

  ('service_action_params', 'select', $$select * from public.service_action_params p join public.service_actions a on a.id = p.action_id where a.key = 'every_interval'$$,
    'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1'),
  ('service_action_params', 'insert', $$insert into public.service_action_params (action_id, name, type) values ('d0000000-0000-4000-8000-0000000000d3', 'extra', 'string')$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('service_action_params', 'update', $$update public.service_action_params set description = description where name = 'seconds'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('service_action_params', 'delete', $$delete from public.service_action_params where name = 'seconds'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),

  ('service_reaction_params', 'select', $$select * from public.service_reaction_params where reaction_id = 'd0000000-0000-4000-8000-0000000000d2'$$,
    'rows:8', 'rows:8', 'rows:8', 'rows:8', 'rows:8'),
  ('service_reaction_params', 'insert', $$insert into public.service_reaction_params (reaction_id, name, type) values ('d0000000-0000-4000-8000-0000000000d2', 'extra', 'string')$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('service_reaction_params', 'update', $$update public.service_reaction_params set description = description where reaction_id = 'd0000000-0000-4000-8000-0000000000d2'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:8'),
  ('service_reaction_params', 'delete', $$delete from public.service_reaction_params where name = 'slot'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),

  ('service_action_outputs', 'select', $$select * from public.service_action_outputs where action_id = 'd0000000-0000-4000-8000-0000000000d3'$$,
    'rows:2', 'rows:2', 'rows:2', 'rows:2', 'rows:2'),
  ('service_action_outputs', 'insert', $$insert into public.service_action_outputs (action_id, name, type) values ('d0000000-0000-4000-8000-0000000000d3', 'extra', 'json')$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('service_action_outputs', 'update', $$update public.service_action_outputs set description = description where action_id = 'd0000000-0000-4000-8000-0000000000d3'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),
  ('service_action_outputs', 'delete', $$delete from public.service_action_outputs where action_id = 'd0000000-0000-4000-8000-0000000000d3'$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),

  ('user_services', 'select', $$select * from public.user_services$$,
    'denied', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('user_services', 'insert', $$insert into public.user_services (user_id, service_id) values ('a0000000-0000-4000-8000-00000000000a', 'd0000000-0000-4000-8000-0000000000d1')$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('user_services', 'update', $$update public.user_services set label = 'renamed'$$,
    'denied', 'rows:1', 'rows:1', 'rows:0', 'rows:2'),
  ('user_services', 'delete', $$delete from public.user_services$$,
    'denied', 'rows:1', 'rows:1', 'rows:0', 'rows:2'),

  ('areas', 'select', $$select * from public.areas$$,
    'denied', 'rows:2', 'rows:1', 'rows:3', 'rows:3'),
  ('areas', 'insert', $$insert into public.areas (user_id, name) values ('a0000000-0000-4000-8000-00000000000a', 'New')$$,
    'denied', 'rows:1', 'denied', 'denied', 'rows:1'),
  ('areas', 'update', $$update public.areas set name = name$$,
    'denied', 'rows:2', 'rows:1', 'rows:0', 'rows:3'),
  ('areas', 'delete', $$delete from public.areas$$,
    'denied', 'rows:2', 'rows:1', 'rows:0', 'rows:3'),

  ('area_actions', 'select', $$select * from public.area_actions$$,
    'denied', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('area_actions', 'insert', $$insert into public.area_actions (area_id, service_action_id) select 'f0000000-0000-4000-8000-0000000000fa', id from public.service_actions where key = 'every_interval'$$,
    'denied', 'rows:1', 'denied', 'denied', 'rows:1'),
  ('area_actions', 'update', $$update public.area_actions set polling_interval_seconds = polling_interval_seconds$$,
    'denied', 'rows:1', 'rows:1', 'rows:0', 'rows:2'),
  ('area_actions', 'delete', $$delete from public.area_actions$$,
    'denied', 'rows:1', 'rows:1', 'rows:0', 'rows:2'),

  ('area_reactions', 'select', $$select * from public.area_reactions$$,
    'denied', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('area_reactions', 'insert', $$insert into public.area_reactions (area_id, service_reaction_id, position) select 'f0000000-0000-4000-8000-0000000000fa', id, 0 from public.service_reactions where key = 'request'$$,
    'denied', 'rows:1', 'denied', 'denied', 'rows:1'),
  ('area_reactions', 'update', $$update public.area_reactions set continue_on_error = continue_on_error$$,
    'denied', 'rows:1', 'rows:1', 'rows:0', 'rows:2'),
  ('area_reactions', 'delete', $$delete from public.area_reactions$$,
    'denied', 'rows:1', 'rows:1', 'rows:0', 'rows:2'),

  ('area_action_param_values', 'select', $$select * from public.area_action_param_values$$,
    'denied', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('area_action_param_values', 'insert', $$insert into public.area_action_param_values (area_action_id, param_id, value) select aa.id, p.id, '30' from public.area_actions aa join public.areas a on a.id = aa.area_id join public.service_action_params p on p.action_id = aa.service_action_id where a.name = 'Alice'$$,
    'denied', 'error:23505', 'rows:0', 'denied', 'error:23505'),
  ('area_action_param_values', 'update', $$update public.area_action_param_values set value = value$$,
    'denied', 'rows:1', 'rows:1', 'rows:0', 'rows:2'),
  ('area_action_param_values', 'delete', $$delete from public.area_action_param_values$$,
    'denied', 'rows:1', 'rows:1', 'rows:0', 'rows:2'),

  ('area_reaction_param_values', 'select', $$select * from public.area_reaction_param_values$$,
    'denied', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('area_reaction_param_values', 'insert', $$insert into public.area_reaction_param_values (area_reaction_id, param_id, value) select ar.id, p.id, '"abc"' from public.area_reactions ar join public.areas a on a.id = ar.area_id join public.service_reaction_params p on p.reaction_id = ar.service_reaction_id and p.name = 'slot' where a.name = 'Alice'$$,
    'denied', 'rows:1', 'rows:0', 'denied', 'rows:1'),
  ('area_reaction_param_values', 'update', $$update public.area_reaction_param_values set value = value$$,
    'denied', 'rows:1', 'rows:1', 'rows:0', 'rows:2'),
  ('area_reaction_param_values', 'delete', $$delete from public.area_reaction_param_values$$,
    'denied', 'rows:1', 'rows:1', 'rows:0', 'rows:2'),

  ('hook_jobs', 'select', $$select * from public.hook_jobs$$,
    'denied', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('hook_jobs', 'insert', $$insert into public.hook_jobs (area_id, area_action_id, service_action_id, type, polling_interval_seconds) select area_id, area_action_id, service_action_id, 'polling', 60 from public.hook_jobs$$,
    'denied', 'denied', 'denied', 'denied', 'error:23505'),
  ('hook_jobs', 'update', $$update public.hook_jobs set error_count = error_count$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),
  ('hook_jobs', 'delete', $$delete from public.hook_jobs$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),

  ('hook_logs', 'select', $$select * from public.hook_logs$$,
    'denied', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('hook_logs', 'insert', $$insert into public.hook_logs (hook_job_id, area_id, dedupe_key, event_payload) select id, area_id, 'event-2', '{}' from public.hook_jobs$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),
  ('hook_logs', 'update', $$update public.hook_logs set processed = true, processed_at = now()$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),
  ('hook_logs', 'delete', $$delete from public.hook_logs$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),

  ('hook_states', 'select', $$select * from public.hook_states$$,
    'denied', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('hook_states', 'insert', $$insert into public.hook_states (hook_job_id, area_id, state_key) select id, area_id, 'other' from public.hook_jobs$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),
  ('hook_states', 'update', $$update public.hook_states set last_checked_at = now()$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),
  ('hook_states', 'delete', $$delete from public.hook_states$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),

  ('execution_logs', 'select', $$select * from public.execution_logs$$,
    'denied', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('execution_logs', 'insert', $$insert into public.execution_logs (area_id, area_action_id, hook_log_id, idempotency_key) select area_id, area_action_id, hook_log_id, idempotency_key || ':again' from public.execution_logs$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),
  ('execution_logs', 'update', $$update public.execution_logs set attempt = attempt + 1$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),
  ('execution_logs', 'delete', $$delete from public.execution_logs$$,
    'denied', 'denied', 'denied', 'denied', 'rows:2'),

  ('audit_logs', 'select', $$select distinct owner_id from public.audit_logs where owner_id in ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000b')$$,
    'denied', 'rows:1', 'rows:1', 'rows:2', 'rows:2'),
  ('audit_logs', 'insert', $$insert into public.audit_logs (actor_role, table_name, operation, row_id, diff) values ('system', 'areas', 'INSERT', gen_random_uuid(), '{}')$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('audit_logs', 'update', $$update public.audit_logs set diff = diff where id = (select min(id) from public.audit_logs)$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),
  ('audit_logs', 'delete', $$delete from public.audit_logs where id = (select min(id) from public.audit_logs)$$,
    'denied', 'denied', 'denied', 'denied', 'rows:1'),

  ('user_service_credentials', 'select', $$select * from private.user_service_credentials$$,
    'denied', 'denied', 'denied', 'denied', 'denied'),
  ('user_service_credentials', 'insert', $$insert into private.user_service_credentials (user_service_id, key_id, ciphertext) values ('e0000000-0000-4000-8000-0000000000eb', 'k', 'x')$$,
    'denied', 'denied', 'denied', 'denied', 'denied'),
  ('user_service_credentials', 'update', $$update private.user_service_credentials set key_id = key_id$$,
    'denied', 'denied', 'denied', 'denied', 'denied'),
  ('user_service_credentials', 'delete', $$delete from private.user_service_credentials$$,
    'denied', 'denied', 'denied', 'denied', 'denied'),

  ('hook_job_secrets', 'select', $$select * from private.hook_job_secrets$$,
    'denied', 'denied', 'denied', 'denied', 'denied'),
  ('hook_job_secrets', 'insert', $$insert into private.hook_job_secrets (hook_job_id, secret) select id, 'x' from public.hook_jobs$$,
    'denied', 'denied', 'denied', 'denied', 'denied'),
  ('hook_job_secrets', 'update', $$update private.hook_job_secrets set secret = secret$$,
    'denied', 'denied', 'denied', 'denied', 'denied'),
  ('hook_job_secrets', 'delete', $$delete from private.hook_job_secrets$$,
    'denied', 'denied', 'denied', 'denied', 'denied');

select is(pg_temp.probe(r.who, m.stmt), r.expected, format('%s: %s as %s', m.tbl, m.op, r.who))
from matrix m
cross join lateral (values (1, 'anon', m.anon), (2, 'alice', m.alice), (3, 'bob', m.bob), (4, 'admin', m.admin),
                           (5, 'service', m.service)) as r(n, who, expected)
order by m.tbl, m.op, r.n;

select * from finish();
rollback;
