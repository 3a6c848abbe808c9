-- The schema as clients and Studio users meet it: the tables of the public contract, RLS on
-- each, indexes on the hot paths, a comment on everything visible, and PL/pgSQL that
-- plpgsql_check finds no fault in.
begin;
create extension if not exists pgtap with schema extensions;
create extension if not exists plpgsql_check with schema extensions;
select plan(20);

select tables_are('public', array[
  'profiles', 'services', 'service_actions', 'service_action_params', 'service_action_outputs', 'service_reactions',
  'service_reaction_params', 'user_services', 'areas', 'area_actions', 'area_action_param_values', 'area_reactions',
  'area_reaction_param_values', 'hook_jobs', 'hook_logs', 'hook_states', 'execution_logs', 'audit_logs'
], 'the public tables are those of the public contract');
select tables_are('private', array['user_service_credentials', 'hook_job_secrets', 'oauth_states'],
  'secrets (and used OAuth2 states) live in private');

select is(
  (select array_agg(relname::text order by relname) from pg_class
   where relnamespace = 'public'::regnamespace and relkind = 'r' and not relrowsecurity),
  null, 'every public table has RLS enabled');

select columns_are('public', 'execution_logs', array[
  'id', 'area_id', 'area_action_id', 'area_reaction_id', 'hook_log_id', 'status', 'attempt', 'idempotency_key',
  'request_payload', 'response_payload', 'error_text', 'started_at', 'finished_at', 'duration_ms'
], 'execution_logs has the columns of the contract');
select col_is_unique('public', 'execution_logs', 'idempotency_key', 'an idempotency key is used once');
select col_is_unique('public', 'hook_logs', array['hook_job_id', 'area_id', 'dedupe_key'],
  'a delivery is stored once per hook job');
-- A unique index over the hooks that have an endpoint (polling hooks have none).
select index_is_unique('public', 'hook_jobs', 'hook_jobs_webhook_endpoint_key', 'webhook endpoints are unique');
select has_index('public', 'hook_jobs', 'hook_jobs_webhook_endpoint_key', 'webhook_endpoint',
  'the unique index is the webhook endpoint''s');
select col_is_unique('public', 'area_actions', 'area_id', 'an AREA has at most one action');

select has_index('public', 'hook_jobs', 'hook_jobs_due', 'due polling hooks are indexed');
select has_index('public', 'hook_logs', 'hook_logs_unprocessed', 'unprocessed events are indexed');
select has_index('public', 'execution_logs', 'execution_logs_area_recent', 'an AREA''s history, newest first, is indexed');
select has_index('public', 'areas', 'areas_user_recent', 'a user''s AREAs are indexed');
select has_index('public', 'audit_logs', 'audit_logs_owner_recent', 'a user''s audit entries are indexed');

-- Every foreign key is backed by an index whose leading columns are the key's (joins, cascades).
select is(
  (select array_agg(c.conrelid::regclass || ' (' || c.conname || ')' order by 1)
   from pg_constraint c
   where c.contype = 'f' and c.connamespace in ('public'::regnamespace, 'private'::regnamespace)
     and not exists (
       select from pg_index i
       where i.indrelid = c.conrelid
         and (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] @> c.conkey
         and (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] <@ c.conkey)),
  null, 'every foreign key has an index');

select is(
  (select array_agg(n.nspname || '.' || c.relname order by 1) from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname in ('public', 'private', 'admin') and c.relkind in ('r', 'v') and obj_description(c.oid, 'pg_class') is null),
  null, 'every table and view has a comment');
select is(
  (select array_agg(n.nspname || '.' || c.relname || '.' || a.attname order by 1)
   from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
   where n.nspname in ('public', 'private', 'admin') and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
     and col_description(c.oid, a.attnum) is null),
  null, 'every column of every table has a comment');
select is(
  (select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
   where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace, 'admin'::regnamespace)
     and obj_description(p.oid, 'pg_proc') is null),
  null, 'every function has a comment');
select is(
  (select array_agg(t.typname::text order by 1) from pg_type t
   where t.typnamespace = 'public'::regnamespace and t.typtype = 'e' and obj_description(t.oid, 'pg_type') is null),
  null, 'every enum has a comment');

select is(
  (select array_agg(p.proname || ' line ' || c.lineno || ': ' || c.message order by 1)
   from pg_proc p
   cross join lateral plpgsql_check_function_tb(p.oid,
     coalesce((select t.tgrelid from pg_trigger t where t.tgfoid = p.oid limit 1), 0)) c
   where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
     and p.prolang = (select oid from pg_language where lanname = 'plpgsql')
     and p.prokind = 'f' and c.level in ('error', 'warning')),
  null, 'plpgsql_check finds no error or warning in any PL/pgSQL function');

select * from finish();
rollback;
