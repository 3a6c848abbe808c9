-- A provider may revoke a webhook subscription on its side (Twitch EventSub sends a `revocation`
-- message when the user removed the authorization or the callback kept failing). Events then
-- stop, so the AREA is paused with the reason; enabling it again subscribes anew.

create function private.record_hook_revocation(hook_job_id uuid, reason text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  hook public.hook_jobs;
  service_name text;
begin
  select h.* into hook from public.hook_jobs h where h.id = record_hook_revocation.hook_job_id for update;
  if not found then
    return false;
  end if;
  select s.name into service_name
  from public.service_actions sa join public.services s on s.id = sa.service_id
  where sa.id = hook.service_action_id;
  -- Unsubscribed first: disabling a subscribed hook would ask the provider to unsubscribe, and
  -- there is nothing left to unsubscribe.
  update public.hook_jobs h
  set subscription_state = 'unsubscribed', provider_subscription_id = null,
      last_error = left(format('%s revoked the subscription: %s', service_name, reason), 1000)
  where h.id = hook.id;
  update public.areas a
  set enabled = false,
      paused_reason = left(format('%s revoked its webhook subscription (%s): enable the AREA again to subscribe anew',
                                  service_name, reason), 1000)
  where a.id = hook.area_id and a.enabled;
  return true;
end
$$;
comment on function private.record_hook_revocation(uuid, text) is
  'Records that the provider revoked a hook''s webhook subscription: the hook is unsubscribed and the AREA paused with a readable reason. Returns false for an unknown hook.';
revoke all on function private.record_hook_revocation(uuid, text) from public, anon, authenticated;
grant execute on function private.record_hook_revocation(uuid, text) to service_role;
