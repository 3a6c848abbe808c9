-- Trigger state and history: hook jobs (how each AREA's action is watched), hook logs (every
-- detected event), hook states (trigger cursors) and execution logs. Users read their own;
-- only AREA (triggers, the worker, the webhook function as service role) writes.

create table public.hook_jobs (
  id uuid primary key default gen_random_uuid(),
  area_id uuid not null unique references public.areas (id) on delete cascade,
  area_action_id uuid not null unique references public.area_actions (id) on delete cascade,
  -- Copied from the AREA's action: a provider registration must be removable after the AREA is gone.
  service_action_id uuid not null references public.service_actions (id),
  user_service_id uuid references public.user_services (id) on delete set null,
  type public.hook_type not null,
  status public.hook_status not null default 'paused',
  polling_interval_seconds integer check (polling_interval_seconds > 0),
  next_run_at timestamptz,
  last_run_at timestamptz,
  webhook_endpoint text,
  provider_subscription_id text,
  subscription_state public.hook_subscription_state not null default 'not_required',
  error_count integer not null default 0 check (error_count >= 0),
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, area_id),
  check ((type = 'polling') = (polling_interval_seconds is not null)),
  check ((type = 'webhook') = (webhook_endpoint is not null)),
  check (type = 'webhook' or subscription_state = 'not_required')
);
comment on table public.hook_jobs is
  'How an AREA''s action is watched; kept in step with the AREA by triggers (enable: active, disable: paused, delete: removed).';
comment on column public.hook_jobs.id is 'Primary key; also the last segment of the webhook URL.';
comment on column public.hook_jobs.area_id is 'The AREA.';
comment on column public.hook_jobs.area_action_id is 'The AREA''s action.';
comment on column public.hook_jobs.service_action_id is 'The action watched (a copy of the AREA action''s, kept for unregistering after deletion).';
comment on column public.hook_jobs.user_service_id is 'The connection the action watches through, if its service needs one (a copy of the AREA action''s).';
comment on column public.hook_jobs.type is 'webhook when the action supports it, else polling.';
comment on column public.hook_jobs.status is 'active while the AREA is enabled; paused when disabled; error after repeated failures.';
comment on column public.hook_jobs.polling_interval_seconds is 'Polling period: the larger of the requested interval and the action''s minimum.';
comment on column public.hook_jobs.next_run_at is 'When the next poll is due (the scheduler enqueues a hook.poll job for it).';
comment on column public.hook_jobs.last_run_at is 'When the last poll ran.';
comment on column public.hook_jobs.webhook_endpoint is 'Path providers POST to: /functions/v1/webhooks/<service>/<id>.';
comment on column public.hook_jobs.provider_subscription_id is 'The provider''s id for the registered hook or subscription.';
comment on column public.hook_jobs.subscription_state is 'Provider-side registration progress for webhooks that need one.';
comment on column public.hook_jobs.error_count is 'Consecutive failures (reset on success).';
comment on column public.hook_jobs.last_error is 'The last failure, readable by the owner.';
comment on column public.hook_jobs.created_at is 'When the hook job was created.';
comment on column public.hook_jobs.updated_at is 'When it last changed.';

-- The scheduler moves next_run_at of every due polling hook each minute, and a changed
-- next_run_at means a new index entry in every index of the row (no HOT update): indexes only
-- rows with a value where that is all they serve (polling hooks have no endpoint, timers no
-- connection).
create unique index hook_jobs_webhook_endpoint_key on public.hook_jobs (webhook_endpoint)
  where webhook_endpoint is not null;
create index hook_jobs_service_action on public.hook_jobs (service_action_id);
create index hook_jobs_user_service on public.hook_jobs (user_service_id) where user_service_id is not null;
create index hook_jobs_due on public.hook_jobs (next_run_at) where status = 'active' and type = 'polling';
-- Every column but next_run_at: the scheduler advancing a hook is activity, not a change of the
-- hook (as run counters are for areas), and skips the trigger altogether. A new column belongs
-- in this list (supabase/tests/database/05_hook_lifecycle.test.sql checks it).
create trigger touch_updated_at
  before update of id, area_id, area_action_id, service_action_id, user_service_id, type, status,
                   polling_interval_seconds, last_run_at, webhook_endpoint, provider_subscription_id,
                   subscription_state, error_count, last_error, created_at
  on public.hook_jobs
  for each row execute function private.touch_updated_at();

create table private.hook_job_secrets (
  hook_job_id uuid primary key references public.hook_jobs (id) on delete cascade,
  key_id text,
  secret text not null,
  created_at timestamptz not null default now()
);
comment on table private.hook_job_secrets is
  'Webhook signing secrets. key_id null: generated by create_area() and not yet sealed; otherwise base64 AES-256-GCM under the named AREA_ENCRYPTION_KEY.';
comment on column private.hook_job_secrets.hook_job_id is 'The hook job.';
comment on column private.hook_job_secrets.key_id is 'Key that sealed the secret, or null while it is as generated.';
comment on column private.hook_job_secrets.secret is 'The secret (sealed when key_id is set).';
comment on column private.hook_job_secrets.created_at is 'When the secret was issued.';

create table public.hook_logs (
  id uuid primary key default gen_random_uuid(),
  hook_job_id uuid not null,
  area_id uuid not null,
  dedupe_key text not null check (length(dedupe_key) between 1 and 512),
  event_payload jsonb not null,
  received_at timestamptz not null default now(),
  processed boolean not null default false,
  processed_at timestamptz,
  origin text not null default 'event' check (origin in ('event', 'test', 'replay')),
  -- Unique per hook job; area_id (fixed by the hook job) leads too, so this index also
  -- serves the composite foreign key below.
  unique (hook_job_id, area_id, dedupe_key),
  foreign key (hook_job_id, area_id) references public.hook_jobs (id, area_id) on delete cascade,
  check (processed = (processed_at is not null))
);
comment on table public.hook_logs is 'Every event an action detected (webhook delivery or new poll item), once per dedupe key.';
comment on column public.hook_logs.id is 'Primary key.';
comment on column public.hook_logs.hook_job_id is 'The hook job that detected it.';
comment on column public.hook_logs.area_id is 'The AREA (same as the hook job''s).';
comment on column public.hook_logs.dedupe_key is 'The provider''s delivery/event id or the poll item''s id: a repeat is stored once.';
comment on column public.hook_logs.event_payload is 'The action''s outputs for this event.';
comment on column public.hook_logs.received_at is 'When AREA detected the event.';
comment on column public.hook_logs.processed is 'Whether the worker finished executing it.';
comment on column public.hook_logs.processed_at is 'When the worker finished.';
comment on column public.hook_logs.origin is 'event (detected by the action), test (a test run) or replay (a forced replay of another event).';

create index hook_logs_unprocessed on public.hook_logs (received_at) where not processed;
create index hook_logs_area_recent on public.hook_logs (area_id, received_at desc);
create index hook_logs_received on public.hook_logs (received_at);

create table public.hook_states (
  hook_job_id uuid not null,
  area_id uuid not null,
  state_key text not null check (length(state_key) between 1 and 200),
  state_value jsonb,
  last_checked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- area_id is fixed by the hook job: in the key so the index also serves the foreign key.
  primary key (hook_job_id, area_id, state_key),
  foreign key (hook_job_id, area_id) references public.hook_jobs (id, area_id) on delete cascade
);
comment on table public.hook_states is 'Trigger cursors and dedupe state of a hook job (last seen id, baseline, threshold side).';
comment on column public.hook_states.hook_job_id is 'The hook job.';
comment on column public.hook_states.area_id is 'The AREA (same as the hook job''s).';
comment on column public.hook_states.state_key is 'What is tracked, e.g. "cursor".';
comment on column public.hook_states.state_value is 'The tracked value.';
comment on column public.hook_states.last_checked_at is 'When the trigger last looked.';
comment on column public.hook_states.created_at is 'When the state was first written.';
comment on column public.hook_states.updated_at is 'When it last changed.';

create index hook_states_area on public.hook_states (area_id);
create trigger touch_updated_at before update on public.hook_states
  for each row execute function private.touch_updated_at();

create table public.execution_logs (
  id uuid primary key default gen_random_uuid(),
  area_id uuid not null references public.areas (id) on delete cascade,
  area_action_id uuid not null references public.area_actions (id) on delete cascade,
  area_reaction_id uuid references public.area_reactions (id) on delete cascade,
  hook_log_id uuid not null references public.hook_logs (id) on delete cascade,
  status public.execution_status not null default 'running',
  attempt integer not null default 1 check (attempt >= 1),
  idempotency_key text not null unique,
  request_payload jsonb,
  response_payload jsonb,
  error_text text,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  duration_ms integer generated always as (
    (extract(epoch from (finished_at - started_at)) * 1000)::integer
  ) stored,
  check ((status = 'running') = (finished_at is null)),
  check (finished_at >= started_at)
);
comment on table public.execution_logs is
  'Execution history: one row for the action (area_reaction_id null) and one per reaction, per event.';
comment on column public.execution_logs.id is 'Primary key.';
comment on column public.execution_logs.area_id is 'The AREA.';
comment on column public.execution_logs.area_action_id is 'The AREA''s action.';
comment on column public.execution_logs.area_reaction_id is 'The reaction, or null for the action row.';
comment on column public.execution_logs.hook_log_id is 'The event that caused it.';
comment on column public.execution_logs.status is 'running, success, failed, skipped (condition false or already done) or partial_success.';
comment on column public.execution_logs.attempt is 'Which delivery attempt wrote this row last.';
comment on column public.execution_logs.idempotency_key is 'Stable per (event, reaction): retries reuse it, HTTP reactions send it as Idempotency-Key.';
comment on column public.execution_logs.request_payload is 'Rendered reaction params (secrets redacted), or the event for the action row.';
comment on column public.execution_logs.response_payload is 'The reaction''s output.';
comment on column public.execution_logs.error_text is 'Why it failed, readable by the owner.';
comment on column public.execution_logs.started_at is 'When it started.';
comment on column public.execution_logs.finished_at is 'When it finished (null while running).';
comment on column public.execution_logs.duration_ms is 'finished_at - started_at in milliseconds (computed).';

create index execution_logs_area_recent on public.execution_logs (area_id, started_at desc);
create index execution_logs_hook_log on public.execution_logs (hook_log_id);
create index execution_logs_started on public.execution_logs (started_at);
create index execution_logs_action on public.execution_logs (area_action_id);
create index execution_logs_reaction on public.execution_logs (area_reaction_id);

alter table public.hook_jobs enable row level security;
alter table public.hook_logs enable row level security;
alter table public.hook_states enable row level security;
alter table public.execution_logs enable row level security;

create policy "owners read, admins read all" on public.hook_jobs for select to authenticated
  using ((select private.owns_area(area_id)) or (select private.is_admin()));
create policy "owners read, admins read all" on public.hook_logs for select to authenticated
  using ((select private.owns_area(area_id)) or (select private.is_admin()));
create policy "owners read, admins read all" on public.hook_states for select to authenticated
  using ((select private.owns_area(area_id)) or (select private.is_admin()));
create policy "owners read, admins read all" on public.execution_logs for select to authenticated
  using ((select private.owns_area(area_id)) or (select private.is_admin()));

revoke all on public.hook_jobs, public.hook_logs, public.hook_states, public.execution_logs from anon;
revoke insert, update, delete, truncate on public.hook_jobs, public.hook_logs, public.hook_states,
  public.execution_logs from authenticated;
