-- Audit entries: written by triggers for every configuration table, with the actor, the
-- owner, only what changed, and no secret ever.
begin;
create extension if not exists pgtap with schema extensions;
select plan(14);
\ir fixtures.psql

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
create temporary table made on commit drop as
select (public.create_area($json${"name": "Audited", "enabled": true,
  "action": {"service": "webhook", "name": "received"},
  "reactions": [{"service": "vault", "name": "store", "connection_id": "e0000000-0000-4000-8000-0000000000ea",
                 "params": {"token": "t0p-s3cret", "slot": "abc"}}]}$json$) ->> 'id')::uuid as id;
reset role;

select is(
  (select (actor_id, actor_role, owner_id) from public.audit_logs where table_name = 'areas' and operation = 'INSERT'),
  row('a0000000-0000-4000-8000-00000000000a'::uuid, 'user'::text, 'a0000000-0000-4000-8000-00000000000a'::uuid),
  'creating an AREA is recorded with the user as actor and owner');
select is((select diff ->> 'name' from public.audit_logs where table_name = 'areas' and operation = 'INSERT'), 'Audited',
  'an INSERT entry holds the row');
select is(
  (select count(*)::integer from public.audit_logs
   where table_name in ('area_actions', 'area_reactions', 'area_reaction_param_values') and operation = 'INSERT'),
  4, 'the action, the reaction and both param values are recorded');
select is(
  (select diff ->> 'value' from public.audit_logs a join public.service_reaction_params p on p.id = (a.diff ->> 'param_id')::uuid
   where a.table_name = 'area_reaction_param_values' and p.name = 'token'),
  '[redacted]', 'a secret param''s value is redacted');
select is(
  (select diff -> 'value' from public.audit_logs a join public.service_reaction_params p on p.id = (a.diff ->> 'param_id')::uuid
   where a.table_name = 'area_reaction_param_values' and p.name = 'slot'),
  '"abc"'::jsonb, 'other values are kept');

set local role authenticated;
update public.areas set name = 'Renamed' where id = (select id from made);
update public.areas set name = 'Renamed' where id = (select id from made);
reset role;
select is(
  (select diff from public.audit_logs where table_name = 'areas' and operation = 'UPDATE'),
  '{"name": {"old": "Audited", "new": "Renamed"}}'::jsonb, 'an UPDATE entry holds only the changed columns');
select is((select count(*)::integer from public.audit_logs where table_name = 'areas' and operation = 'UPDATE'), 1,
  'an update that changes nothing is not recorded');

-- The service role (functions, worker) and SQL sessions (Studio, migrations) are told apart.
set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
update public.user_services set status = 'needs_reconnect', last_error = 'token expired'
where id = 'e0000000-0000-4000-8000-0000000000ea';
reset role;
set local request.jwt.claims to '';
update public.user_services set label = 'Studio edit' where id = 'e0000000-0000-4000-8000-0000000000ea';
select is(
  (select array_agg(actor_role order by id) from public.audit_logs where table_name = 'user_services' and operation = 'UPDATE'),
  array['service', 'system'], 'service-role and SQL changes are recorded as such');
select is(
  (select owner_id from public.audit_logs where table_name = 'user_services' and operation = 'UPDATE' limit 1),
  'a0000000-0000-4000-8000-00000000000a'::uuid, 'a connection''s entries belong to its owner');

set local role authenticated;
set local request.jwt.claims to '{"sub": "c0000000-0000-4000-8000-00000000000c", "role": "authenticated", "app_metadata": {"role": "admin"}}';
update public.profiles set display_name = 'Root' where id = 'c0000000-0000-4000-8000-00000000000c';
reset role;
select is((select actor_role from public.audit_logs where table_name = 'profiles' and operation = 'UPDATE'), 'admin',
  'an admin''s change is recorded as admin');

select is((select count(*)::integer from public.audit_logs where diff::text like '%t0p-s3cret%'), 0,
  'the secret appears in no audit entry');

-- Deleting an AREA records the AREA, not each cascaded child.
set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
delete from public.areas where id = (select id from made);
reset role;
select is((select count(*)::integer from public.audit_logs where operation = 'DELETE' and table_name = 'areas'), 1,
  'the deletion of the AREA is recorded');
select is((select count(*)::integer from public.audit_logs where operation = 'DELETE' and table_name like 'area\_%'), 0,
  'cascaded deletions of its parts are not recorded one by one');

select throws_ok($$insert into public.audit_logs (actor_role, table_name, operation, row_id, diff)
  values ('robot', 'areas', 'INSERT', gen_random_uuid(), '{}')$$, '23514', null, 'actor_role is one of the known kinds');

select * from finish();
rollback;
