-- Operator views in the non-exposed `admin` schema, for Studio and SQL.
-- (Queue depth by queue and state is added with the pg-boss schema.)

create view admin.area_health with (security_invoker = true) as
select
  a.id as area_id,
  a.name,
  a.user_id,
  u.email as user_email,
  a.enabled,
  a.paused_reason,
  h.status as hook_status,
  h.last_error as hook_last_error,
  (select max(e.started_at) from public.execution_logs e where e.area_id = a.id and e.area_reaction_id is null) as last_run_at,
  count(e24.id) as runs_24h,
  count(e24.id) filter (where e24.status in ('failed', 'partial_success')) as failures_24h,
  round(count(e24.id) filter (where e24.status in ('failed', 'partial_success'))::numeric
        / nullif(count(e24.id), 0), 3) as failure_rate_24h
from public.areas a
join auth.users u on u.id = a.user_id
left join public.hook_jobs h on h.area_id = a.id
left join public.execution_logs e24
  on e24.area_id = a.id and e24.area_reaction_id is null and e24.started_at > now() - interval '24 hours'
group by a.id, u.email, h.status, h.last_error;
comment on view admin.area_health is 'Per AREA: state, last run, runs and failure rate over the last 24 hours.';

create view admin.hook_backlog with (security_invoker = true) as
select
  h.id as hook_job_id,
  h.area_id,
  h.type,
  h.status,
  count(l.id) as unprocessed_events,
  min(l.received_at) as oldest_unprocessed_at,
  now() - min(l.received_at) as oldest_unprocessed_age
from public.hook_jobs h
join public.hook_logs l on l.hook_job_id = h.id and not l.processed
group by h.id;
comment on view admin.hook_backlog is 'Hook jobs with events not yet processed, oldest first in age.';

create view admin.connections_needing_reconnect with (security_invoker = true) as
select c.id as connection_id, c.user_id, u.email as user_email, s.key as service, c.status, c.last_error,
       c.token_expires_at, c.updated_at
from public.user_services c
join public.services s on s.id = c.service_id
join auth.users u on u.id = c.user_id
where c.status <> 'active';
comment on view admin.connections_needing_reconnect is 'Connections whose user must reconnect (refused, expired or revoked credentials).';
