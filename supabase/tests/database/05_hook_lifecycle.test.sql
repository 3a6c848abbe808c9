-- hook_jobs follow their AREA: created with it, active while enabled, paused while disabled,
-- removed with it; polling at max(requested, minimum); provider registration requested
-- (subscribe on enable, unsubscribe on disable and on delete) for webhooks that need it.
begin;
create extension if not exists pgtap with schema extensions;
select plan(24);
\ir fixtures.psql

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';

create temporary table made on commit drop as
select (public.create_area($json${"name": "Polled", "enabled": false,
  "action": {"service": "timer", "name": "every_interval", "params": {"seconds": 5}, "polling_interval_seconds": 30},
  "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org"}}]}$json$) ->> 'id')::uuid as polled,
  (public.create_area($json${"name": "Registered", "enabled": true,
  "action": {"service": "vault", "name": "changed", "connection_id": "e0000000-0000-4000-8000-0000000000ea"},
  "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/{{item.id}}"}}]}$json$) ->> 'id')::uuid as registered;

select is((select status::text from public.hook_jobs where area_id = (select polled from made)), 'paused',
  'a disabled AREA gets a paused hook job');
select is((select next_run_at from public.hook_jobs where area_id = (select polled from made)), null,
  'a paused polling hook is not due');
select is((select polling_interval_seconds from public.hook_jobs where area_id = (select polled from made)), 5,
  'a timer polls at its own period (its interval param wins over the requested interval)');

select public.set_area_enabled((select polled from made), true) is not null as enabled;
select is((select status::text from public.hook_jobs where area_id = (select polled from made)), 'active',
  'enabling activates the hook job');
reset role;
select is((select min(start_after) from pgboss.job j join public.hook_jobs h on h.id = (j.data ->> 'hookJobId')::uuid
           where j.name = 'hook.poll' and h.area_id = (select polled from made)), now(),
  'enabling enqueues the first poll (the baseline) at once');
select is((select count(*)::integer from pgboss.job j join public.hook_jobs h on h.id = (j.data ->> 'hookJobId')::uuid
           where j.name = 'hook.poll' and h.area_id = (select polled from made)), 14,
  'and the following polls of the scheduler window, every 5 s up to 70 s ahead');
select is((select next_run_at from public.hook_jobs where area_id = (select polled from made)), now() + interval '70 seconds',
  'next_run_at moves past the scheduled window');
set local role authenticated;

select public.set_area_enabled((select polled from made), false) is not null as disabled;
select is((select status::text from public.hook_jobs where area_id = (select polled from made)), 'paused',
  'disabling pauses it');
select is((select next_run_at from public.hook_jobs where area_id = (select polled from made)), null,
  'a paused hook is no longer due');
select throws_ok($$select public.set_area_enabled('f0000000-0000-4000-8000-000000000999', true)$$, 'P0002',
  'AREA f0000000-0000-4000-8000-000000000999 not found', 'an unknown AREA is not found');

-- Changing the action to a webhook replaces the polling hook by a webhook hook.
select public.update_area((select polled from made),
  '{"action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/{{body.id}}"}}]}') is not null as changed;
select is((select type::text from public.hook_jobs where area_id = (select polled from made)), 'webhook',
  'changing the action to a webhook action recreates the hook job as a webhook');
select is((select count(*)::integer from public.hook_jobs where area_id = (select polled from made)), 1,
  'one hook job per AREA');
select is((select name from public.areas where id = (select polled from made)), 'Polled',
  'fields not named in the change are kept');

-- Registration at the provider.
select is((select subscription_state::text from public.hook_jobs where area_id = (select registered from made)),
  'subscribe_requested', 'enabling a webhook that needs registration marks it subscribe_requested');
reset role;
select is((select count(*)::integer from pgboss.job j join public.hook_jobs h on h.id = (j.data ->> 'hookJobId')::uuid
           where j.name = 'hook.subscribe' and h.area_id = (select registered from made)), 1,
  'and enqueues one hook.subscribe job');
update public.hook_jobs set subscription_state = 'subscribed', provider_subscription_id = 'sub-1'
where area_id = (select registered from made);
set local role authenticated;
select public.set_area_enabled((select registered from made), false) is not null as disabled;
select is((select subscription_state::text from public.hook_jobs where area_id = (select registered from made)),
  'unsubscribe_requested', 'disabling it requests hook.unsubscribe');
select public.set_area_enabled((select registered from made), true) is not null as enabled;
select is((select subscription_state::text from public.hook_jobs where area_id = (select registered from made)),
  'subscribe_requested', 'enabling it again requests hook.subscribe again');

-- Deleting the AREA removes its hook job and, for a registered webhook, requests unsubscription.
reset role;
create temporary table registered_hook on commit drop as
select id from public.hook_jobs where area_id = (select registered from made);
update public.hook_jobs set subscription_state = 'subscribed', provider_subscription_id = 'sub-2'
where area_id = (select registered from made);
set local role authenticated;
delete from public.areas where id = (select registered from made);
select is((select count(*)::integer from public.hook_jobs where area_id = (select registered from made)), 0,
  'deleting the AREA deletes its hook job');
reset role;
select is((select j.data - 'hookJobId' from pgboss.job j
           where j.name = 'hook.unsubscribe' and (j.data ->> 'hookJobId')::uuid = (select id from registered_hook)
           order by j.created_on desc, (j.data ->> 'subscriptionId') desc limit 1),
  '{"action": "changed", "service": "vault", "connectionId": "e0000000-0000-4000-8000-0000000000ea", "subscriptionId": "sub-2"}'::jsonb,
  'deleting a registered webhook''s AREA enqueues hook.unsubscribe with what the provider needs');
select is((select count(*)::integer from pgboss.job j
           where j.name = 'hook.unsubscribe' and (j.data ->> 'hookJobId')::uuid = (select id from registered_hook)), 2,
  'one hook.unsubscribe job per request (the disable earlier, the delete now)');

select is((select count(*)::integer from public.hook_jobs h join public.areas a on a.id = h.area_id),
  (select count(*)::integer from public.hook_jobs), 'no hook job outlives its AREA');
set local role authenticated;

-- Polling interval: the action's minimum wins over a smaller request.
select is(
  (select (public.create_area($json${"name": "Slow", "enabled": true,
     "action": {"service": "timer", "name": "every_interval", "params": {"seconds": 3600}},
     "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org"}}]}$json$)
     -> 'hook' ->> 'polling_interval_seconds')::integer),
  3600, 'an hourly timer polls hourly');
select is((select count(*)::integer from public.hook_jobs where status = 'active' and type = 'polling'), 1,
  'exactly the enabled polled AREA is due for polling');

-- updated_at follows every change of a hook job but the scheduler's moves of next_run_at (activity).
reset role;
select is(
  (select array_agg(a.attname::text order by a.attnum) from pg_trigger t
   join pg_attribute a on a.attrelid = t.tgrelid and a.attnum = any (t.tgattr::int2[])
   where t.tgrelid = 'public.hook_jobs'::regclass and t.tgname = 'touch_updated_at'),
  (select array_agg(a.attname::text order by a.attnum) from pg_attribute a
   where a.attrelid = 'public.hook_jobs'::regclass and a.attnum > 0 and not a.attisdropped
     and a.attname not in ('next_run_at', 'updated_at')),
  'every column of hook_jobs but next_run_at and updated_at touches updated_at');

select * from finish();
rollback;
