-- Retention: hook logs and execution logs older than admin.settings.retention_days (30 by
-- default) are deleted in bounded batches, each committed on its own, so no run holds locks
-- on many rows for long. pg_cron runs it every 10 minutes.

create table admin.settings (
  key text primary key,
  value jsonb not null,
  description text not null
);
comment on table admin.settings is 'Operator-tunable settings (edit in Studio).';
comment on column admin.settings.key is 'Setting name.';
comment on column admin.settings.value is 'Setting value (JSON).';
comment on column admin.settings.description is 'What the setting does.';
insert into admin.settings (key, value, description) values
  ('retention_days', '30', 'Hook logs and execution logs older than this many days are deleted.'),
  ('retention_batch_size', '5000', 'Rows deleted per batch (and per commit) by the retention job.');

create function private.setting(setting_key text, fallback jsonb) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce((select value from admin.settings where key = setting_key), fallback)
$$;
comment on function private.setting(text, jsonb) is 'An admin.settings value, or the fallback when it is not set.';

-- One batch: deletes up to batch_size expired execution logs, else hook logs (whose
-- remaining executions go with them). Returns the number of rows deleted.
create function private.purge_expired_logs_batch(batch_size integer default null) returns integer
language plpgsql
set search_path = ''
as $$
declare
  cutoff timestamptz := now() - make_interval(days => private.setting('retention_days', '30')::integer);
  size integer := coalesce(batch_size, private.setting('retention_batch_size', '5000')::integer);
  deleted integer;
begin
  delete from public.execution_logs where id in (
    select id from public.execution_logs where started_at < cutoff limit size for update skip locked);
  get diagnostics deleted = row_count;
  if deleted > 0 then
    return deleted;
  end if;
  delete from public.hook_logs where id in (
    select id from public.hook_logs where received_at < cutoff and processed limit size for update skip locked);
  get diagnostics deleted = row_count;
  return deleted;
end
$$;
comment on function private.purge_expired_logs_batch(integer) is
  'Deletes one batch of execution logs, else processed hook logs, older than retention_days. Returns rows deleted.';

create procedure private.purge_expired_logs(max_batches integer default 100)
language plpgsql
set search_path = ''
as $$
declare
  batch integer := 0;
begin
  while batch < max_batches and private.purge_expired_logs_batch() > 0 loop
    batch := batch + 1;
    commit;
  end loop;
  -- pg_cron's own history grows by one row per run of every job.
  delete from cron.job_run_details where end_time < now() - interval '7 days';
end
$$;
comment on procedure private.purge_expired_logs(integer) is
  'Retention job: purges expired logs batch by batch (a commit after each), then old pg_cron run history.';

select cron.schedule('area-retention', '*/10 * * * *', 'call private.purge_expired_logs()');
