-- Retention: logs older than admin.settings.retention_days go, in bounded batches; recent
-- logs and events not yet processed stay (nothing accepted is lost); pg_cron runs it.
begin;
create extension if not exists pgtap with schema extensions;
select plan(9);
\ir fixtures.psql

insert into public.areas (id, user_id, name) values ('f0000000-0000-4000-8000-0000000000f1', 'a0000000-0000-4000-8000-00000000000a', 'Kept');
insert into public.area_actions (area_id, service_action_id)
select 'f0000000-0000-4000-8000-0000000000f1', id from public.service_actions where key = 'received';
select private.sync_hook_job('f0000000-0000-4000-8000-0000000000f1') is not null as hooked;

-- 5 old processed events with one execution each, 1 old unprocessed event, 1 recent event.
insert into public.hook_logs (hook_job_id, area_id, dedupe_key, event_payload, received_at, processed, processed_at)
select h.id, h.area_id, 'old-' || n, '{}', now() - interval '40 days', true, now() - interval '40 days'
from public.hook_jobs h, generate_series(1, 5) n;
insert into public.hook_logs (hook_job_id, area_id, dedupe_key, event_payload, received_at)
select id, area_id, 'old-unprocessed', '{}', now() - interval '40 days' from public.hook_jobs;
insert into public.hook_logs (hook_job_id, area_id, dedupe_key, event_payload)
select id, area_id, 'recent', '{}' from public.hook_jobs;
insert into public.execution_logs (area_id, area_action_id, hook_log_id, idempotency_key, status, started_at, finished_at)
select l.area_id, h.area_action_id, l.id, l.id || ':action', 'success', l.received_at, l.received_at
from public.hook_logs l join public.hook_jobs h on h.id = l.hook_job_id;

select is(private.purge_expired_logs_batch(2), 2, 'a batch deletes at most its size');
select is(private.purge_expired_logs_batch(100), 4, 'execution logs go first: the 4 old ones left');
select is(private.purge_expired_logs_batch(100), 5, 'then the old processed events');
select is(private.purge_expired_logs_batch(100), 0, 'then nothing is left to purge');
select is((select array_agg(dedupe_key order by dedupe_key) from public.hook_logs), array['old-unprocessed', 'recent'],
  'recent events and events not yet processed are kept');
select is((select count(*)::integer from public.execution_logs), 1, 'the recent execution is kept');

update public.execution_logs set started_at = now() - interval '2 days', finished_at = now() - interval '2 days';
update admin.settings set value = '1' where key = 'retention_days';
select is(private.purge_expired_logs_batch(100), 1, 'retention_days is read from admin.settings');

select is((select schedule from cron.job where jobname = 'area-retention'), '*/10 * * * *',
  'pg_cron runs the retention job every 10 minutes');
select is((select command from cron.job where jobname = 'area-retention'), 'call private.purge_expired_logs()',
  'as a procedure that commits between batches');

select * from finish();
rollback;
