-- What migrations, functions and RLS policies rely on from Supabase: the API roles, the
-- auth claim helpers as PostgREST feeds them, and the extensions. Holds on a hosted
-- project and on the local bootstrap (scripts/sql/supabase-compat.sql) alike.
begin;
create extension if not exists pgtap with schema extensions;
select plan(21);

select has_role('anon');
select has_role('authenticated');
select has_role('service_role');
select has_role('authenticator');
select ok((select rolbypassrls from pg_roles where rolname = 'service_role'), 'service_role bypasses RLS');
select ok(not (select rolbypassrls from pg_roles where rolname = 'authenticated'), 'authenticated is subject to RLS');
select ok(pg_has_role('authenticator', 'authenticated', 'member'), 'authenticator can switch to authenticated');

select has_table('auth', 'users', 'auth.users exists');
select has_column('auth', 'users', 'id', 'auth.users.id');
select has_column('auth', 'users', 'email', 'auth.users.email');
select has_column('auth', 'users', 'raw_user_meta_data', 'auth.users.raw_user_meta_data');
select has_column('auth', 'users', 'raw_app_meta_data', 'auth.users.raw_app_meta_data');
select has_column('auth', 'users', 'created_at', 'auth.users.created_at');
select has_column('auth', 'users', 'updated_at', 'auth.users.updated_at');

-- PostgREST sets request.jwt.claims per transaction; the helpers read it.
set local request.jwt.claims to '{"sub":"8b0c1c3e-8f6a-4e57-9b4d-4c1f2d6c9a01","role":"authenticated","email":"ada@example.com","app_metadata":{"role":"admin"}}';
set local role authenticated;
select is(auth.uid(), '8b0c1c3e-8f6a-4e57-9b4d-4c1f2d6c9a01'::uuid, 'auth.uid() is the sub claim');
select is(auth.role(), 'authenticated', 'auth.role() is the role claim');
select is(auth.jwt() -> 'app_metadata' ->> 'role', 'admin', 'auth.jwt() exposes app_metadata');
reset role;

set local request.jwt.claims to '';
select is(auth.uid(), null, 'no claims: auth.uid() is null');

select has_extension('pg_cron');
select is(current_setting('cron.database_name'), current_database()::text, 'pg_cron runs jobs in this database');
select has_schema('extensions');

select * from finish();
rollback;
