-- private.ingest_account_event: an event a provider sends once per application (a Slack workspace's
-- message, at the app's one Request URL) fanned out to every active hook it belongs to: the action's
-- hooks whose connection is to one of the event's accounts and whose params match, in one statement.
begin;
create extension if not exists pgtap with schema extensions;
select plan(15);
\ir fixtures.psql

-- A "chat" service like Slack's: a webhook action, registered with the provider by nobody, with a channel param.
insert into public.services (id, key, name, auth_kind)
values ('d1000000-0000-4000-8000-0000000000d1', 'chat', 'Chat', 'oauth2');
insert into public.service_actions (id, service_id, key, name, polling_supported, webhook_supported, requires_registration)
values ('d1000000-0000-4000-8000-0000000000d3', 'd1000000-0000-4000-8000-0000000000d1', 'posted', 'Posted', false, true, false);
insert into public.service_action_params (id, action_id, name, type, required, display_order)
values ('d1000000-0000-4000-8000-0000000000d4', 'd1000000-0000-4000-8000-0000000000d3', 'channel', 'string', true, 0);
insert into public.service_action_outputs (action_id, name, type)
values ('d1000000-0000-4000-8000-0000000000d3', 'text', 'string');

-- Alice and Bob connected workspace T1; the admin connected T2.
insert into public.user_services (id, user_id, service_id, provider_account_id) values
  ('e1000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-00000000000a', 'd1000000-0000-4000-8000-0000000000d1', 'T1'),
  ('e1000000-0000-4000-8000-0000000000b1', 'b0000000-0000-4000-8000-00000000000b', 'd1000000-0000-4000-8000-0000000000d1', 'T1'),
  ('e1000000-0000-4000-8000-0000000000c2', 'c0000000-0000-4000-8000-00000000000c', 'd1000000-0000-4000-8000-0000000000d1', 'T2');

-- AREAs (id, owner, connection, channel): alice C1, bob C1, alice C2, admin C1 (T2), alice C1 left disabled.
create temporary table setup (area_id uuid, user_id uuid, connection_id uuid, channel text, enabled boolean) on commit drop;
insert into setup values
  ('f1000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-00000000000a', 'e1000000-0000-4000-8000-0000000000a1', 'C1', true),
  ('f1000000-0000-4000-8000-0000000000b1', 'b0000000-0000-4000-8000-00000000000b', 'e1000000-0000-4000-8000-0000000000b1', 'C1', true),
  ('f1000000-0000-4000-8000-0000000000a2', 'a0000000-0000-4000-8000-00000000000a', 'e1000000-0000-4000-8000-0000000000a1', 'C2', true),
  ('f1000000-0000-4000-8000-0000000000c1', 'c0000000-0000-4000-8000-00000000000c', 'e1000000-0000-4000-8000-0000000000c2', 'C1', true),
  ('f1000000-0000-4000-8000-0000000000a3', 'a0000000-0000-4000-8000-00000000000a', 'e1000000-0000-4000-8000-0000000000a1', 'C1', false);
insert into public.areas (id, user_id, name, enabled) select area_id, user_id, 'Chat ' || channel, false from setup;
insert into public.area_actions (area_id, service_action_id, user_service_id)
select area_id, 'd1000000-0000-4000-8000-0000000000d3', connection_id from setup;
insert into public.area_action_param_values (area_action_id, param_id, value)
select aa.id, 'd1000000-0000-4000-8000-0000000000d4', to_jsonb(s.channel)
from setup s join public.area_actions aa on aa.area_id = s.area_id;
insert into public.area_reactions (area_id, service_reaction_id, position)
select s.area_id, sr.id, 0 from setup s, public.service_reactions sr where sr.key = 'request';
insert into public.area_reaction_param_values (area_reaction_id, param_id, value)
select r.id, p.id, '"https://example.org"' from public.area_reactions r
join public.service_reaction_params p on p.reaction_id = r.service_reaction_id and p.name = 'url'
where r.area_id in (select area_id from setup);
update public.areas a set enabled = true from setup s where s.area_id = a.id and s.enabled;
set constraints all immediate;
create temporary table hooks on commit drop as
select s.area_id, h.id as hook_job_id, h.status from setup s join public.hook_jobs h on h.area_id = s.area_id;

select is((select array_agg(status::text order by area_id) from hooks),
  array['active', 'active', 'paused', 'active', 'active'], 'the enabled AREAs have active webhook hooks');

create temporary table first_answers on commit drop as
select * from private.ingest_account_event('chat', 'posted', array['T1'], '{"channel": "C1"}', 'Ev1', '{"text": "hi"}');

select is((select array_agg(hook_job_id order by hook_job_id) from first_answers),
  (select array_agg(hook_job_id order by hook_job_id) from hooks
   where area_id in ('f1000000-0000-4000-8000-0000000000a1', 'f1000000-0000-4000-8000-0000000000b1')),
  'one answer per hook of the workspace watching the channel: alice''s and bob''s');
select is((select array_agg(distinct result ->> 'status') from first_answers), array['accepted'], 'both stored it');
select is((select count(*)::integer from public.hook_logs l join first_answers a on l.id = (a.result ->> 'hook_log_id')::uuid
           where l.hook_job_id = a.hook_job_id and l.dedupe_key = 'Ev1' and l.event_payload = '{"text": "hi"}'),
  2, 'each hook logs the event under the event id, with its payload');
select is((select array_agg(j.group_id order by j.group_id) from pgboss.job j
           join first_answers a on j.id = (a.result ->> 'hook_log_id')::uuid where j.name = 'area.execute'),
  array['a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000b'],
  'and enqueues its execution, grouped by its owner');
select is((select count(*)::integer from public.hook_logs l join hooks h using (hook_job_id)
           where h.area_id in ('f1000000-0000-4000-8000-0000000000a2', 'f1000000-0000-4000-8000-0000000000c1',
                               'f1000000-0000-4000-8000-0000000000a3')),
  0, 'another channel, another workspace and a disabled AREA store nothing');

select is((select array_agg(result ->> 'status') from private.ingest_account_event(
             'chat', 'posted', array['T1'], '{"channel": "C1"}', 'Ev1', '{"text": "again"}')),
  array['duplicate', 'duplicate'], 'Slack''s retry of the same event is a duplicate in every hook');
select is((select count(*)::integer from public.hook_logs where dedupe_key = 'Ev1'), 2, 'and stores nothing more');

select is((select array_agg(h.area_id) from private.ingest_account_event(
             'chat', 'posted', array['T9', 'T2'], '{"channel": "C1"}', 'Ev2', '{"text": "shared"}') a
           join hooks h using (hook_job_id)),
  array['f1000000-0000-4000-8000-0000000000c1'::uuid], 'any of the event''s accounts matches (a shared channel)');
select is((select count(*)::integer from private.ingest_account_event(
             'chat', 'posted', array['T1'], '{"channel": "C9"}', 'Ev3', '{}')),
  0, 'an event no hook watches answers nothing');
select is((select count(*)::integer from private.ingest_account_event(
             'chat', 'posted', array['T1'], '{}', 'Ev4', '{}')),
  3, 'no params to match: every active hook of the workspace');

select throws_ok($$select * from private.ingest_account_event('chat', 'posted', array['T1'], '"C1"', 'Ev5', '{}')$$,
  '22023', 'params: must be an object of the params a hook must have', 'params must be an object');
select throws_ok($$select * from private.ingest_account_event('chat', 'posted', array['T1'], '{}', null, '{}')$$,
  '22023', 'dedupe_key and payload: must be given', 'an event needs its key and payload');

select ok(not has_function_privilege('authenticated', 'private.ingest_account_event(text, text, text[], jsonb, text, jsonb)', 'execute')
          and not has_function_privilege('anon', 'private.ingest_account_event(text, text, text[], jsonb, text, jsonb)', 'execute')
          and has_function_privilege('service_role', 'private.ingest_account_event(text, text, text[], jsonb, text, jsonb)', 'execute'),
  'only the service role may call it');
select has_index('public', 'user_services', 'user_services_provider_account', array['service_id', 'provider_account_id'],
  'connections are found by service and provider account');

select * from finish();
rollback;
