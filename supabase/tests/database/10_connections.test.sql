-- OAuth2 connections as the api function stores them: store_connection() creates or refreshes one
-- connection per (user, service, provider account) with its encrypted credentials, consume_oauth_state()
-- accepts a state once, and only the service role may call either (no client role, owner included).
begin;
create extension if not exists pgtap with schema extensions;
select plan(16);
\ir fixtures.psql

select ok(pg_temp.denied('anon', $$select private.store_connection('a0000000-0000-4000-8000-00000000000a', 'vault', 'x', null, null, '{}', null, 'k', 'c')$$),
  'anon cannot store a connection');
select ok(pg_temp.denied('authenticated', $$select private.store_connection('a0000000-0000-4000-8000-00000000000a', 'vault', 'x', null, null, '{}', null, 'k', 'c')$$),
  'a user cannot store a connection (nor forge one for another user)');
select ok(pg_temp.denied('authenticated', $$select private.consume_oauth_state(gen_random_uuid(), now())$$),
  'a user cannot mark states used');
select ok(pg_temp.denied('authenticated', $$select * from private.connection_credentials('e0000000-0000-4000-8000-0000000000ea', 'a0000000-0000-4000-8000-00000000000a')$$),
  'a user cannot read credentials, not even their own');
select ok(pg_temp.denied('service_role', $$select * from private.oauth_states$$),
  'the used states are not readable, even by the service role');

set local role service_role;
create temporary table stored (id uuid) on commit drop;
insert into stored select private.store_connection('a0000000-0000-4000-8000-00000000000a', 'vault', 'acct-1', 'alice',
  'alice@example.org', '{read,write}', '2030-01-01T00:00:00Z', 'k1', 'Y2lwaGVy');
select is((select (us.user_id, us.provider_login, us.provider_email, us.scopes, us.status::text, us.token_expires_at)::text
           from public.user_services us where us.id = (select id from stored)),
  ('a0000000-0000-4000-8000-00000000000a'::uuid, 'alice', 'alice@example.org', '{read,write}'::text[], 'active',
   '2030-01-01T00:00:00Z'::timestamptz)::text,
  'a new connection is stored for its user, active');
select is((select (key_id, ciphertext) from private.connection_credentials((select id from stored),
                                                                           'a0000000-0000-4000-8000-00000000000a')),
  ('k1'::text, 'Y2lwaGVy'::text), 'with its credentials, readable by the service role for the owner');
select is((select count(*)::int from private.connection_credentials((select id from stored),
                                                                    'b0000000-0000-4000-8000-00000000000b')),
  0, 'but not for another user');
reset role;

update public.user_services set status = 'needs_reconnect', last_error = 'refused' where id = (select id from stored);
set local role service_role;
select is(private.store_connection('a0000000-0000-4000-8000-00000000000a', 'vault', 'acct-1', 'alice2', null, '{read}',
                                   null, 'k2', 'bmV3'),
  (select id from stored), 'reconnecting the same account updates the same connection');
reset role;
select is((select (status::text, last_error, provider_login, scopes)::text from public.user_services
           where id = (select id from stored)),
  ('active'::text, null::text, 'alice2'::text, '{read}'::text[])::text, 'active again, with the new account details');
select is((select (key_id, ciphertext) from private.user_service_credentials where user_service_id = (select id from stored)),
  ('k2'::text, 'bmV3'::text), 'and the new credentials');
set local role service_role;
select isnt(private.store_connection('a0000000-0000-4000-8000-00000000000a', 'vault', 'acct-2', null, null, '{}', null,
                                     'k1', 'eA=='),
  (select id from stored), 'another provider account is another connection');
select throws_ok($$select private.store_connection('a0000000-0000-4000-8000-00000000000a', 'nope', 'x', null, null, '{}', null, 'k', 'c')$$,
  'P0002', null, 'an unknown service is refused');
select throws_ok($$select private.store_connection('a0000000-0000-4000-8000-00000000000a', 'vault', '', null, null, '{}', null, 'k', 'c')$$,
  '22023', null, 'a connection needs the provider account id');

select ok(private.consume_oauth_state('f1000000-0000-4000-8000-000000000001', now() + interval '10 minutes'),
  'a state is accepted the first time');
select ok(not private.consume_oauth_state('f1000000-0000-4000-8000-000000000001', now() + interval '10 minutes'),
  'and refused after');
reset role;

select * from finish();
rollback;
