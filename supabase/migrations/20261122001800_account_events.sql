-- Events a provider sends once per application rather than once per hook. A Slack app has one
-- Request URL for every workspace that installed it: the webhooks function's app-level route
-- (POST /webhooks/slack) verifies an event with the app's key and hands it here, where it is fanned
-- out to every active hook of the action whose connection is to the event's provider account (the
-- workspace) and whose params match, and stored in each through ingest_events: one statement, one
-- transaction, whatever the number of hooks.

-- The hooks an account event belongs to are found from the connections to that account.
create index user_services_provider_account on public.user_services (service_id, provider_account_id)
  where provider_account_id is not null;

create function private.ingest_account_event(
  service_key text,
  action_key text,
  account_ids text[],
  params jsonb,
  dedupe_key text,
  payload jsonb
)
returns table (hook_job_id uuid, result jsonb)
language plpgsql
security definer
set search_path = ''
as $$
begin
  if jsonb_typeof(params) is distinct from 'object' then
    raise exception 'params: must be an object of the params a hook must have' using errcode = '22023';
  elsif dedupe_key is null or payload is null then
    raise exception 'dedupe_key and payload: must be given' using errcode = '22023';
  end if;
  return query
  with hooks as (
    -- Numbered so that each answer of ingest_events (by position) goes back to its hook.
    -- From the account's connections (index user_services_provider_account) to their hooks.
    select h.id, row_number() over (order by h.id) as n
    from public.services s
    join public.user_services us on us.service_id = s.id and us.provider_account_id = any (account_ids)
    join private.hook_job_details h on h.connection_id = us.id and h.service = s.key
    where s.key = service_key and h.action = action_key and h.status = 'active' and h.type = 'webhook'
      and h.params @> ingest_account_event.params
  )
  select h.id, e.result
  from private.ingest_events((
    select coalesce(jsonb_agg(jsonb_build_object('hook_job_id', k.id, 'dedupe_key', dedupe_key, 'payload', payload)
                              order by k.n), '[]')
    from hooks k)) e
  join hooks h on h.n = e.event_number
  order by h.n;
end
$$;
comment on function private.ingest_account_event(text, text, text[], jsonb, text, jsonb) is
  'Fans one event of a provider account (a Slack workspace''s message) out to every active webhook hook of service_key/action_key whose connection''s provider_account_id is one of account_ids and whose params contain `params` (by name, as jsonb containment), storing it in each under dedupe_key through ingest_events (atomically, enqueuing their executions). One row per matching hook with its ingest_events result; none when no hook matches.';
revoke all on function private.ingest_account_event(text, text, text[], jsonb, text, jsonb)
  from public, anon, authenticated;
grant execute on function private.ingest_account_event(text, text, text[], jsonb, text, jsonb) to service_role;
