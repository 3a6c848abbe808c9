-- A provider revoking a webhook subscription (Twitch EventSub `revocation`): the hook is marked
-- unsubscribed with the reason, the AREA is paused with a readable reason and no unsubscribe job
-- is asked for; enabling again subscribes anew. Only the service role may record it.
begin;
create extension if not exists pgtap with schema extensions;
select plan(8);
\ir fixtures.psql

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
create temporary table made on commit drop as
select (public.create_area($json${"name": "Registered", "enabled": true,
  "action": {"service": "vault", "name": "changed", "connection_id": "e0000000-0000-4000-8000-0000000000ea"},
  "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/{{item.id}}"}}]}$json$) ->> 'id')::uuid as area_id;
select throws_ok($$select private.record_hook_revocation((select id from public.hook_jobs limit 1), 'x')$$,
  '42501', null, 'a user cannot record a revocation');
reset role;

update public.hook_jobs set subscription_state = 'subscribed', provider_subscription_id = 'sub-1'
where area_id = (select area_id from made);
create temporary table unsubscribes_before on commit drop as
select count(*) as n from pgboss.job where name = 'hook.unsubscribe';

select ok(private.record_hook_revocation((select id from public.hook_jobs where area_id = (select area_id from made)),
                                         'authorization_revoked'), 'a known hook is recorded');
set constraints all immediate; -- the hook job follows its AREA at commit, as it does for the webhooks function
select results_eq(
  $$select subscription_state::text, provider_subscription_id, last_error from public.hook_jobs
    where area_id = (select area_id from made)$$,
  $$values ('unsubscribed', null::text, 'Vault revoked the subscription: authorization_revoked')$$,
  'the hook is unsubscribed, with the reason');
select results_eq(
  $$select enabled, paused_reason from public.areas where id = (select area_id from made)$$,
  $$values (false, 'Vault revoked its webhook subscription (authorization_revoked): enable the AREA again to subscribe anew')$$,
  'the AREA is paused with a reason its owner can read');
select is((select count(*) from pgboss.job where name = 'hook.unsubscribe'), (select n from unsubscribes_before),
  'nothing is left at the provider to unsubscribe');
select is((select status::text from public.hook_jobs where area_id = (select area_id from made)), 'paused',
  'the hook job is paused with its AREA');

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select public.set_area_enabled((select area_id from made), true) is not null as enabled;
reset role;
select is((select subscription_state::text from public.hook_jobs where area_id = (select area_id from made)),
  'subscribe_requested', 'enabling again subscribes anew');
select ok(not private.record_hook_revocation(gen_random_uuid(), 'gone'), 'an unknown hook is reported, not an error');

select * from finish();
rollback;
