-- OAuth2 token refresh as the worker stores it: lock_connection_credentials() takes the connection's
-- transaction-scoped advisory lock and reads the tokens; store_refreshed_credentials() and
-- refuse_connection_refresh() write only over the credentials that were read, and only the service
-- role may call any of them. (Two sessions contending for the lock: tests/token_refresh.test.ts.)
begin;
create extension if not exists pgtap with schema extensions;
select plan(18);
\ir fixtures.psql

select ok(pg_temp.denied('authenticated', $$select * from private.lock_connection_credentials('e0000000-0000-4000-8000-0000000000ea')$$),
  'a user cannot read credentials through the refresh lock, not even their own');
select ok(pg_temp.denied('anon', $$select * from private.lock_connection_credentials('e0000000-0000-4000-8000-0000000000ea')$$),
  'nor can anon');
select ok(pg_temp.denied('authenticated', $$select private.store_refreshed_credentials('e0000000-0000-4000-8000-0000000000ea', 'c2VjcmV0', 'k1', 'eA==', now())$$),
  'a user cannot store tokens');
select ok(pg_temp.denied('authenticated', $$select private.refuse_connection_refresh('e0000000-0000-4000-8000-0000000000ea', 'c2VjcmV0', 'x')$$),
  'a user cannot mark a connection refused');

-- Alice's vault connection used by an enabled AREA: refused, it must pause the AREA.
set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
create temporary table made on commit drop as
select (public.create_area($json${"name": "Uses the vault", "enabled": true,
  "action": {"service": "webhook", "name": "received"},
  "reactions": [{"service": "vault", "name": "store", "connection_id": "e0000000-0000-4000-8000-0000000000ea",
                 "params": {"token": "t"}}]}$json$) ->> 'id')::uuid as area_id;
reset role;
update public.user_services set token_expires_at = '2030-01-01T00:00:00Z' where id = 'e0000000-0000-4000-8000-0000000000ea';

set local role service_role;
select is((select (status::text, token_expires_at, key_id, ciphertext)::text
           from private.lock_connection_credentials('e0000000-0000-4000-8000-0000000000ea')),
  ('active'::text, '2030-01-01T00:00:00Z'::timestamptz, 'k1'::text, 'c2VjcmV0'::text)::text,
  'the lock returns the connection''s status, expiry and encrypted credentials');
reset role;
select is((select count(*)::int from pg_locks
           where locktype = 'advisory' and pid = pg_backend_pid() and granted and objsubid = 2
             and classid = hashtext('private.lock_connection_credentials')::oid
             and objid = hashtext('e0000000-0000-4000-8000-0000000000ea')::oid),
  1, 'and holds the connection''s advisory lock until the transaction ends');
set local role service_role;
select is((select count(*)::int from private.lock_connection_credentials('e0000000-0000-4000-8000-0000000000eb')), 1,
  'a connection without credentials is returned too');
select is((select key_id from private.lock_connection_credentials('e0000000-0000-4000-8000-0000000000eb')), null,
  'with null credentials');
select is((select count(*)::int from private.lock_connection_credentials(gen_random_uuid())), 0,
  'no row for an unknown connection');

select ok(not private.store_refreshed_credentials('e0000000-0000-4000-8000-0000000000ea', 'b2xk', 'k2', 'bmV3',
                                                  '2031-01-01T00:00:00Z'),
  'tokens refreshed from other credentials than the stored ones are not stored (a reconnection won)');
select ok(private.store_refreshed_credentials('e0000000-0000-4000-8000-0000000000ea', 'c2VjcmV0', 'k2', 'bmV3',
                                              '2031-01-01T00:00:00Z'),
  'tokens refreshed from the stored ones are stored');
reset role;
select is((select (c.key_id, c.ciphertext, us.token_expires_at, us.status::text)::text
           from private.user_service_credentials c join public.user_services us on us.id = c.user_service_id
           where us.id = 'e0000000-0000-4000-8000-0000000000ea'),
  ('k2'::text, 'bmV3'::text, '2031-01-01T00:00:00Z'::timestamptz, 'active'::text)::text,
  'with their new key id and expiry, the connection still active');

set local role service_role;
select throws_ok($$select private.refuse_connection_refresh('e0000000-0000-4000-8000-0000000000ea', 'bmV3', ' ')$$,
  '22023', null, 'a refusal needs a readable reason');
select ok(not private.refuse_connection_refresh('e0000000-0000-4000-8000-0000000000ea', 'c2VjcmV0', 'dead token'),
  'a refusal of credentials already replaced changes nothing');
select ok(private.refuse_connection_refresh('e0000000-0000-4000-8000-0000000000ea', 'bmV3',
                                            'Vault refused to renew the access token (invalid_grant)'),
  'a refusal of the stored credentials marks the connection');
reset role;
select is((select (status::text, last_error)::text from public.user_services where id = 'e0000000-0000-4000-8000-0000000000ea'),
  ('needs_reconnect'::text, 'Vault refused to renew the access token (invalid_grant)'::text)::text,
  'needs_reconnect, with the reason');
select is((select (enabled, paused_reason)::text from public.areas where id = (select area_id from made)),
  (false, 'its connection was refused by the provider (Vault refused to renew the access token (invalid_grant)): reconnect the account, then enable the AREA'::text)::text,
  'and its AREA is paused with a reason the user can read');
set local role service_role;
select ok(not private.store_refreshed_credentials('e0000000-0000-4000-8000-0000000000ea', 'bmV3', 'k3', 'bGF0ZQ==', now()),
  'a connection that needs reconnecting takes no refreshed tokens');
reset role;

select * from finish();
rollback;
