-- Runs a user starts by hand: a test run of an AREA and the replay of a past execution. Both go
-- through the real queue and worker, like any event. An execution is identified by its event
-- (hook_logs.id): the action row and the reaction rows of execution_logs all point to it.

-- A test run: a new event on the AREA's own hook job, with the payload given (a frontend sends the
-- action's sample, see service_actions.sample), executed whether the AREA is enabled or not, so a
-- draft can be tried before it goes live. It must be complete, as for enabling.
create function public.test_area(area_id uuid, payload jsonb) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner uuid := private.require_user();
  hook public.hook_jobs;
  log_id uuid;
begin
  select h.* into hook
  from public.hook_jobs h join public.areas a on a.id = h.area_id
  where h.area_id = test_area.area_id and a.user_id = owner;
  if not found then
    raise exception 'AREA % not found', area_id using errcode = 'P0002';
  end if;
  if jsonb_typeof(payload) is distinct from 'object' then
    perform private.reject('payload', 'type', 'must be a JSON object of the action''s outputs');
  end if;
  perform private.validate_area(public.area_definition(test_area.area_id) - 'id', owner, true);
  insert into public.hook_logs (hook_job_id, area_id, dedupe_key, event_payload, origin)
  values (hook.id, hook.area_id, 'test:' || gen_random_uuid(), payload, 'test')
  returning id into log_id;
  perform private.enqueue('area.execute', jsonb_build_object('hookLogId', log_id),
                          jsonb_build_object('id', log_id, 'group', jsonb_build_object('id', owner)));
  return log_id;
end
$$;
comment on function public.test_area(uuid, jsonb) is
  'Runs the caller''s AREA once now on `payload` (the action''s outputs), enabled or not, through the queue and the worker. Returns the execution id (the event''s hook_logs.id). Errors: P0002 unknown AREA, 22023 incomplete AREA or payload not an object.';

-- A replay. Without force, the same event runs again under the same idempotency keys: reactions
-- that succeeded are skipped, exactly as on a retry, and the execution's rows are updated in
-- place. With force, everything must happen again, so it is a new event (a copy of the payload)
-- with new idempotency keys and an execution of its own.
create function public.replay_execution(execution_id uuid, force boolean default false) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner uuid := private.require_user();
  event public.hook_logs;
  log_id uuid;
begin
  select l.* into event
  from public.hook_logs l join public.areas a on a.id = l.area_id
  where l.id = replay_execution.execution_id and a.user_id = owner
  for update of l;
  if not found then
    raise exception 'execution % not found', execution_id using errcode = 'P0002';
  end if;
  if not event.processed then
    raise exception 'execution % has not finished yet: replay it once it has', execution_id
      using errcode = '55000', hint = 'GET /api/areas/<id>/executions shows when it is done';
  end if;
  if force then
    insert into public.hook_logs (hook_job_id, area_id, dedupe_key, event_payload, origin)
    values (event.hook_job_id, event.area_id, 'replay:' || event.id || ':' || gen_random_uuid(), event.event_payload,
            'replay')
    returning id into log_id;
  else
    log_id := event.id;
    update public.hook_logs l set processed = false, processed_at = null where l.id = log_id;
  end if;
  -- A replay gets a fresh retry budget, and its job id is left to pg-boss: the event's first job
  -- (id = hook log id) may still be in the queue's history.
  perform private.enqueue('area.execute', jsonb_build_object('hookLogId', log_id),
                          jsonb_build_object('group', jsonb_build_object('id', owner)));
  return log_id;
end
$$;
comment on function public.replay_execution(uuid, boolean) is
  'Runs a finished execution of the caller again. Without force: same event and idempotency keys, reactions that succeeded are skipped. With force: a new event with the same payload, every reaction runs. Returns the execution id that will hold the result. Errors: P0002 unknown, 55000 not finished yet.';

revoke all on function public.test_area(uuid, jsonb), public.replay_execution(uuid, boolean) from public, anon;
grant execute on function public.test_area(uuid, jsonb), public.replay_execution(uuid, boolean) to authenticated;
