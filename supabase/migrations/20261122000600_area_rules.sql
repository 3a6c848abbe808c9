-- The rules every AREA obeys, whichever client writes (create_area(), supabase-js, Studio).
--
-- One validator reads an AREA in the definition shape of POST /api/areas, so create_area()
-- reports problems with the paths the client sent (reactions[0].params.url), and direct
-- table writes are checked by rebuilding that shape from the rows at commit. Enabled AREAs
-- must be complete; disabled ones may be drafts built row by row, but never invalid.
-- After a successful check, the AREA's hook job is brought in step (sync_hook_job).

-- Raises the one validation error shape: SQLSTATE 22023, message "<path>: <text>",
-- detail {"path", "rule"} (a stable rule name clients can switch on).
create function private.reject(path text, rule text, message text) returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception '%', case when path = '' then message else path || ': ' || message end
    using errcode = '22023', detail = jsonb_build_object('path', path, 'rule', rule)::text;
end
$$;
comment on function private.reject(text, text, text) is 'Raises a validation error (22023) naming the field path and the rule broken.';

-- Why a value does not fit a param, or null when it does.
create function private.param_value_problem(type public.param_type, options jsonb, regex text, value jsonb)
returns text
language plpgsql stable
set search_path = ''
as $$
declare
  text_value text := case when jsonb_typeof(value) = 'string' then value #>> '{}' end;
begin
  case type
    when 'json' then return null;
    when 'number' then
      if jsonb_typeof(value) <> 'number' then return 'must be a number'; end if;
      return null;
    when 'boolean' then
      if jsonb_typeof(value) <> 'boolean' then return 'must be true or false'; end if;
      return null;
    when 'enum' then
      if not options @> jsonb_build_array(value) then
        return 'must be one of ' || (select string_agg(o #>> '{}', ', ') from jsonb_array_elements(options) o);
      end if;
      return null;
    else null;
  end case;
  if text_value is null then return 'must be a string'; end if;
  case type
    when 'secret' then
      if text_value = '' then return 'must not be empty'; end if;
    when 'email' then
      if text_value !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then return 'must be an email address'; end if;
    when 'url' then
      if text_value !~* '^https?://[^\s/?#]+[^\s]*$' then return 'must be an http(s) URL'; end if;
    when 'date' then
      if text_value !~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$' then
        return 'must be an ISO 8601 date-time';
      end if;
      begin
        perform text_value::timestamptz;
      exception when others then
        return 'must be an ISO 8601 date-time';
      end;
    else null;
  end case;
  if regex is not null and text_value !~ regex then
    return 'must match ' || regex;
  end if;
  return null;
end
$$;
comment on function private.param_value_problem(public.param_type, jsonb, text, jsonb) is
  'Why a JSON value does not fit a param of this type/options/regex, or null when it does.';

-- Checks the {{placeholders}} in one string against the action's outputs.
create function private.check_placeholders(path text, template text, action_id uuid, action_label text)
returns void
language plpgsql stable
set search_path = ''
as $$
declare
  expr text;
  head text;
  output_type public.param_type;
begin
  if template !~ '\{\{' then return; end if;
  if (length(template) - length(replace(template, '{{', ''))) <> (length(template) - length(replace(template, '}}', ''))) then
    perform private.reject(path, 'placeholder_syntax', 'has an unclosed {{ or a stray }}');
  end if;
  for expr in select btrim(m[1]) from regexp_matches(template, '\{\{([^{}]*)\}\}', 'g') as m loop
    if expr !~ '^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$' then
      perform private.reject(path, 'placeholder_syntax',
        format('{{%s}} is not a placeholder: write {{output}} or {{output.field}}', expr));
    end if;
    head := split_part(expr, '.', 1);
    select o.type into output_type from public.service_action_outputs o where o.action_id = check_placeholders.action_id and o.name = head;
    if not found then
      perform private.reject(path, 'placeholder_unknown', format('{{%s}} does not name an output of %s (outputs: %s)',
        expr, action_label,
        coalesce((select string_agg(o.name, ', ' order by o.display_order) from public.service_action_outputs o
                  where o.action_id = check_placeholders.action_id), 'none')));
    end if;
    if expr like '%.%' and output_type <> 'json' then
      perform private.reject(path, 'placeholder_path',
        format('{{%s}}: %s is a %s output; only json outputs have fields', expr, head, output_type));
    end if;
  end loop;
end
$$;
comment on function private.check_placeholders(text, text, uuid, text) is
  'Rejects {{placeholders}} that are malformed or do not name one of the action''s outputs (dotted paths only into json outputs).';

-- The params of actions and reactions in one relation (their ids are unique across both).
create view private.node_params as
select id, action_id as node_id, name, type, required, default_value, validation_regex, options, display_order
from public.service_action_params
union all
select id, reaction_id, name, type, required, default_value, validation_regex, options, display_order
from public.service_reaction_params;
comment on view private.node_params is 'Params of every action and reaction: id is the param, node_id its action or reaction.';
grant select on private.node_params to authenticated, service_role;

-- Checks a params object against the catalogue params of one action or reaction.
-- Reaction params (templated) may hold placeholders; their type is then checked when rendered.
create function private.check_params(path text, params jsonb, node_id uuid, complete boolean,
                                     templated_for uuid, action_label text, node_label text)
returns void
language plpgsql stable
set search_path = ''
as $$
declare
  key text;
  value jsonb;
  param record;
  problem text;
begin
  if params is null or params = 'null' then params := '{}'; end if;
  if jsonb_typeof(params) <> 'object' then
    perform private.reject(path, 'type', 'must be an object');
  end if;
  for key in select k from jsonb_object_keys(params) k
             where k not in (select p.name from private.node_params p where p.node_id = check_params.node_id) loop
    perform private.reject(path || '.' || key, 'unknown_param', format('is not a parameter of %s', node_label));
  end loop;
  for param in select p.name, p.type, p.required, p.default_value, p.validation_regex, p.options
               from private.node_params p where p.node_id = check_params.node_id order by p.display_order
  loop
    value := params -> param.name;
    if value is null or value = 'null' then
      if complete and param.required and param.default_value is null then
        perform private.reject(path || '.' || param.name, 'required', 'is required');
      end if;
      continue;
    end if;
    if jsonb_typeof(value) = 'string' and value #>> '{}' ~ '\{\{|\}\}' then
      if templated_for is null then
        perform private.reject(path || '.' || param.name, 'placeholder_not_allowed',
          'placeholders are only allowed in reaction params');
      end if;
      perform private.check_placeholders(path || '.' || param.name, value #>> '{}', templated_for, action_label);
      continue;
    end if;
    problem := private.param_value_problem(param.type, param.options, param.validation_regex, value);
    if problem is not null then
      perform private.reject(path || '.' || param.name, 'invalid_value', problem);
    end if;
  end loop;
end
$$;
comment on function private.check_params(text, jsonb, uuid, boolean, uuid, text, text) is
  'Rejects unknown params, missing required ones (when complete) and values of the wrong type, regex or option.';

-- Checks a node's connection: present when the service needs one, the owner's, the right service, not revoked.
create function private.check_connection(path text, connection jsonb, service public.services, owner uuid, complete boolean)
returns void
language plpgsql stable
set search_path = ''
as $$
declare
  conn public.user_services;
  conn_service text;
begin
  if connection is null or connection = 'null' then
    if complete and service.auth_kind <> 'none' then
      perform private.reject(path, 'connection_required', format('service "%s" needs a connection', service.key));
    end if;
    return;
  end if;
  if service.auth_kind = 'none' then
    perform private.reject(path, 'connection_not_allowed', format('service "%s" takes no connection', service.key));
  end if;
  if jsonb_typeof(connection) <> 'string' or connection #>> '{}' !~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' then
    perform private.reject(path, 'type', 'must be a connection id (uuid)');
  end if;
  select * into conn from public.user_services where id = (connection #>> '{}')::uuid and user_id = owner;
  if not found then
    -- Another user's connection is reported exactly like a missing one.
    perform private.reject(path, 'connection_not_found', 'no such connection');
  end if;
  if conn.service_id <> service.id then
    select key into conn_service from public.services where id = conn.service_id;
    perform private.reject(path, 'connection_wrong_service',
      format('is a connection to "%s", not "%s"', conn_service, service.key));
  end if;
  if conn.status = 'revoked' then
    perform private.reject(path, 'connection_revoked', 'is revoked: reconnect the account first');
  end if;
end
$$;
comment on function private.check_connection(text, jsonb, public.services, uuid, boolean) is
  'Rejects a missing, foreign, wrong-service or revoked connection for an action or reaction.';

create function private.check_keys(path text, object jsonb, allowed text[]) returns void
language plpgsql immutable
set search_path = ''
as $$
declare
  key text;
begin
  for key in select jsonb_object_keys(object) loop
    if key <> all (allowed) then
      perform private.reject(case when path = '' then key else path || '.' || key end, 'unknown_field',
        'is not a known field (expected one of: ' || array_to_string(allowed, ', ') || ')');
    end if;
  end loop;
end
$$;
comment on function private.check_keys(text, jsonb, text[]) is 'Rejects fields outside the allowed list.';

-- The validator. `complete` demands everything an enabled AREA needs.
create function private.validate_area(definition jsonb, owner uuid, complete boolean) returns void
language plpgsql stable
set search_path = ''
as $$
declare
  action jsonb := definition -> 'action';
  reaction jsonb;
  i integer := 0;
  service public.services;
  act public.service_actions;
  rea public.service_reactions;
  action_label text;
  interval_seconds jsonb;
begin
  if jsonb_typeof(definition) is distinct from 'object' then
    perform private.reject('', 'type', 'the definition must be a JSON object');
  end if;
  perform private.check_keys('', definition, array['name', 'description', 'enabled', 'condition', 'action', 'reactions']);

  if jsonb_typeof(definition -> 'name') is distinct from 'string' or btrim(definition ->> 'name') = '' then
    perform private.reject('name', 'required', 'is required (a non-empty string)');
  end if;
  if length(btrim(definition ->> 'name')) > 100 then
    perform private.reject('name', 'too_long', 'must be at most 100 characters');
  end if;
  if coalesce(definition -> 'description', 'null') <> 'null' and jsonb_typeof(definition -> 'description') <> 'string' then
    perform private.reject('description', 'type', 'must be a string');
  end if;
  if length(definition ->> 'description') > 1000 then
    perform private.reject('description', 'too_long', 'must be at most 1000 characters');
  end if;
  if coalesce(definition -> 'enabled', 'true') not in ('true', 'false') then
    perform private.reject('enabled', 'type', 'must be true or false');
  end if;
  if coalesce(definition -> 'condition', 'null') <> 'null' and jsonb_typeof(definition -> 'condition') <> 'object' then
    perform private.reject('condition', 'type', 'must be an object or null');
  end if;

  if jsonb_typeof(action) is distinct from 'object' then
    if complete or coalesce(action, 'null') <> 'null' then
      perform private.reject('action', 'required', 'is required (an object with service and name)');
    end if;
  else
    perform private.check_keys('action', action, array['service', 'name', 'params', 'connection_id', 'polling_interval_seconds']);
    select * into service from public.services where key = action ->> 'service';
    if not found then
      perform private.reject('action.service', 'unknown_service', format('there is no service "%s"', action ->> 'service'));
    end if;
    select * into act from public.service_actions where service_id = service.id and key = action ->> 'name';
    if not found then
      perform private.reject('action.name', 'unknown_action',
        format('service "%s" has no action "%s"', service.key, action ->> 'name'));
    end if;
    if complete and not (service.active and act.active) then
      perform private.reject('action.name', 'inactive', format('%s/%s is no longer available', service.key, act.key));
    end if;
    action_label := service.key || '/' || act.key;
    perform private.check_connection('action.connection_id', action -> 'connection_id', service, owner, complete);
    perform private.check_params('action.params', action -> 'params', act.id, complete, null, action_label, action_label);
    interval_seconds := action -> 'polling_interval_seconds';
    if coalesce(interval_seconds, 'null') <> 'null' then
      if not act.polling_supported then
        perform private.reject('action.polling_interval_seconds', 'not_polled', format('%s is not polled', action_label));
      end if;
      if jsonb_typeof(interval_seconds) <> 'number' then
        perform private.reject('action.polling_interval_seconds', 'type', 'must be a number of seconds');
      end if;
      if (interval_seconds #>> '{}')::numeric % 1 <> 0
         or (interval_seconds #>> '{}')::numeric < act.min_polling_interval_seconds then
        perform private.reject('action.polling_interval_seconds', 'too_small',
          format('must be a whole number of seconds, at least %s', act.min_polling_interval_seconds));
      end if;
    end if;
  end if;

  if coalesce(definition -> 'reactions', 'null') <> 'null' and jsonb_typeof(definition -> 'reactions') <> 'array' then
    perform private.reject('reactions', 'type', 'must be an array');
  end if;
  if jsonb_array_length(coalesce(definition -> 'reactions', '[]')) > 10
     or (complete and jsonb_array_length(coalesce(definition -> 'reactions', '[]')) = 0) then
    perform private.reject('reactions', 'count', 'must hold between 1 and 10 reactions');
  end if;

  for reaction in select jsonb_array_elements(coalesce(definition -> 'reactions', '[]')) loop
    if jsonb_typeof(reaction) <> 'object' then
      perform private.reject(format('reactions[%s]', i), 'type', 'must be an object with service and name');
    end if;
    perform private.check_keys(format('reactions[%s]', i), reaction,
      array['service', 'name', 'params', 'connection_id', 'continue_on_error']);
    select * into service from public.services where key = reaction ->> 'service';
    if not found then
      perform private.reject(format('reactions[%s].service', i), 'unknown_service',
        format('there is no service "%s"', reaction ->> 'service'));
    end if;
    select * into rea from public.service_reactions where service_id = service.id and key = reaction ->> 'name';
    if not found then
      perform private.reject(format('reactions[%s].name', i), 'unknown_reaction',
        format('service "%s" has no reaction "%s"', service.key, reaction ->> 'name'));
    end if;
    if complete and not (service.active and rea.active) then
      perform private.reject(format('reactions[%s].name', i), 'inactive',
        format('%s/%s is no longer available', service.key, rea.key));
    end if;
    if coalesce(reaction -> 'continue_on_error', 'false') not in ('true', 'false') then
      perform private.reject(format('reactions[%s].continue_on_error', i), 'type', 'must be true or false');
    end if;
    perform private.check_connection(format('reactions[%s].connection_id', i), reaction -> 'connection_id', service,
                                     owner, complete);
    perform private.check_params(format('reactions[%s].params', i), reaction -> 'params', rea.id, complete, act.id,
                                 action_label, service.key || '/' || rea.key);
    i := i + 1;
  end loop;
end
$$;
comment on function private.validate_area(jsonb, uuid, boolean) is
  'Validates an AREA definition (the POST /api/areas shape) against the catalogue and the owner''s connections; raises 22023 naming the field path.';

-- An AREA's rows in the definition shape (what validate_area() reads and the API returns).
create function public.area_definition(area_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', a.id,
    'name', a.name,
    'description', a.description,
    'enabled', a.enabled,
    'condition', a.condition,
    'action', (
      select jsonb_build_object(
        'service', s.key, 'name', sa.key, 'connection_id', aa.user_service_id,
        'polling_interval_seconds', aa.polling_interval_seconds,
        'params', coalesce((
          select jsonb_object_agg(p.name, v.value)
          from public.area_action_param_values v join public.service_action_params p on p.id = v.param_id
          where v.area_action_id = aa.id), '{}'))
      from public.area_actions aa
      join public.service_actions sa on sa.id = aa.service_action_id
      join public.services s on s.id = sa.service_id
      where aa.area_id = a.id),
    'reactions', coalesce((
      select jsonb_agg(jsonb_build_object(
        'service', s.key, 'name', sr.key, 'connection_id', ar.user_service_id,
        'continue_on_error', ar.continue_on_error,
        'params', coalesce((
          select jsonb_object_agg(p.name, v.value)
          from public.area_reaction_param_values v join public.service_reaction_params p on p.id = v.param_id
          where v.area_reaction_id = ar.id), '{}'))
        order by ar.position)
      from public.area_reactions ar
      join public.service_reactions sr on sr.id = ar.service_reaction_id
      join public.services s on s.id = sr.service_id
      where ar.area_id = a.id), '[]')
  )
  from public.areas a
  where a.id = area_definition.area_id
$$;
comment on function public.area_definition(uuid) is
  'The AREA in the definition shape of POST /api/areas (service and action keys, params by name, reactions in order). RLS applies: null for an AREA the caller cannot see.';
grant execute on function public.area_definition(uuid) to authenticated, service_role;

-- Provider registration of a webhook runs in the worker (hook.subscribe / hook.unsubscribe jobs).
create function private.enqueue_hook_registration(hook_job_id uuid, operation text) returns void
language plpgsql
set search_path = ''
as $$
declare
  snapshot jsonb;
begin
  if operation not in ('subscribe', 'unsubscribe') then
    raise exception 'operation must be subscribe or unsubscribe, got %', operation using errcode = '22023';
  end if;
  -- An unsubscribe may run after the hook job and its AREA are gone: it carries what it needs.
  select jsonb_build_object('hookJobId', h.id, 'subscriptionId', h.provider_subscription_id,
                            'service', s.key, 'action', sa.key, 'connectionId', h.user_service_id)
  into snapshot
  from public.hook_jobs h
  join public.service_actions sa on sa.id = h.service_action_id
  join public.services s on s.id = sa.service_id
  where h.id = hook_job_id;
  perform private.enqueue('hook.' || operation, coalesce(snapshot, jsonb_build_object('hookJobId', hook_job_id)),
                          jsonb_build_object('group', jsonb_build_object('id', hook_job_id)));
end
$$;
comment on function private.enqueue_hook_registration(uuid, text) is
  'Enqueues the hook.subscribe/hook.unsubscribe job that registers a webhook at its provider (or removes it).';

create function private.request_hook_registration(hook_job_id uuid, operation text) returns void
language plpgsql
set search_path = ''
as $$
begin
  update public.hook_jobs
  set subscription_state = case operation when 'subscribe' then 'subscribe_requested' else 'unsubscribe_requested' end::public.hook_subscription_state
  where id = hook_job_id;
  perform private.enqueue_hook_registration(hook_job_id, operation);
end
$$;
comment on function private.request_hook_registration(uuid, text) is
  'Marks the hook job subscribe_requested/unsubscribe_requested and enqueues the job that does it at the provider.';

-- Brings an AREA's hook job in step with the AREA: created when it has an action, active while
-- enabled, paused while disabled; recreated when the action changes kind.
create function private.sync_hook_job(area_id uuid) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  target record;
  hook public.hook_jobs;
  desired_type public.hook_type;
  desired_interval integer;
  was_active boolean;
begin
  select a.enabled, aa.id as area_action_id, aa.service_action_id, aa.user_service_id,
         aa.polling_interval_seconds, sa.webhook_supported,
         sa.requires_registration, sa.min_polling_interval_seconds, sa.default_polling_interval_seconds,
         s.key as service_key,
         (select (v.value #>> '{}')::numeric::integer
          from public.area_action_param_values v join public.service_action_params p on p.id = v.param_id
          where v.area_action_id = aa.id and p.name = sa.polling_interval_param
            and jsonb_typeof(v.value) = 'number') as interval_param
  into target
  from public.areas a
  join public.area_actions aa on aa.area_id = a.id
  join public.service_actions sa on sa.id = aa.service_action_id
  join public.services s on s.id = sa.service_id
  where a.id = sync_hook_job.area_id;

  if not found then
    delete from public.hook_jobs h where h.area_id = sync_hook_job.area_id;
    return null;
  end if;

  desired_type := case when target.webhook_supported then 'webhook' else 'polling' end::public.hook_type;
  desired_interval := case when desired_type = 'polling' then greatest(
    coalesce(target.interval_param, target.polling_interval_seconds, target.default_polling_interval_seconds),
    target.min_polling_interval_seconds) end;

  select * into hook from public.hook_jobs h where h.area_id = sync_hook_job.area_id;
  if found and (hook.area_action_id <> target.area_action_id or hook.service_action_id <> target.service_action_id
                or hook.type <> desired_type) then
    delete from public.hook_jobs where id = hook.id;
    hook := null;
  end if;

  was_active := coalesce(hook.status = 'active', false);
  if hook.id is null then
    hook.id := gen_random_uuid();
    insert into public.hook_jobs (id, area_id, area_action_id, service_action_id, user_service_id, type, status,
                                  polling_interval_seconds, next_run_at, webhook_endpoint, subscription_state)
    values (hook.id, sync_hook_job.area_id, target.area_action_id, target.service_action_id, target.user_service_id,
            desired_type,
            case when target.enabled then 'active' else 'paused' end::public.hook_status,
            desired_interval,
            case when target.enabled and desired_type = 'polling' then now() end,
            case when desired_type = 'webhook' then '/functions/v1/webhooks/' || target.service_key || '/' || hook.id end,
            case when target.requires_registration then 'unsubscribed' else 'not_required' end::public.hook_subscription_state)
    returning * into hook;
    if desired_type = 'webhook' then
      -- 244 random bits from two v4 UUIDs (gen_random_uuid uses the strong RNG); pgcrypto not needed.
      insert into private.hook_job_secrets (hook_job_id, secret)
      values (hook.id, 'whsec_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
    end if;
  else
    update public.hook_jobs h set
      status = case when target.enabled then 'active' else 'paused' end::public.hook_status,
      polling_interval_seconds = desired_interval,
      next_run_at = case
        when not target.enabled or desired_type = 'webhook' then null
        when h.status = 'active' and h.next_run_at is not null then h.next_run_at
        else now() end,
      error_count = case when target.enabled and h.status <> 'active' then 0 else h.error_count end,
      user_service_id = target.user_service_id
    where h.id = hook.id
      and (h.status, h.polling_interval_seconds, h.next_run_at is null, h.user_service_id)
        is distinct from (case when target.enabled then 'active' else 'paused' end::public.hook_status,
                          desired_interval, not target.enabled or desired_type = 'webhook', target.user_service_id);
    select * into hook from public.hook_jobs h where h.area_id = sync_hook_job.area_id;
  end if;

  -- Polling starts at once (the baseline poll) rather than at the next scheduler tick; after a
  -- pause the cursor is dropped, so the first poll sets a new baseline and old items never fire.
  if hook.type = 'polling' and hook.status = 'active' and not was_active then
    delete from public.hook_states s where s.hook_job_id = hook.id and s.state_key = 'cursor';
    perform private.schedule_polls(only_hooks => array[hook.id]);
  end if;

  if target.requires_registration then
    if target.enabled and hook.subscription_state in ('unsubscribed', 'unsubscribe_requested') then
      perform private.request_hook_registration(hook.id, 'subscribe');
    elsif not target.enabled and hook.subscription_state in ('subscribed', 'subscribe_requested') then
      perform private.request_hook_registration(hook.id, 'unsubscribe');
    end if;
  end if;
  return hook.id;
end
$$;
comment on function private.sync_hook_job(uuid) is
  'Creates, activates, pauses or recreates the AREA''s hook job (webhook when the action supports it, else polling at max(requested, minimum)); requests provider registration when needed.';

-- Deleting a registered webhook's hook job (AREA deleted, action changed) unregisters it.
create function private.unregister_deleted_hook() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.subscription_state in ('subscribed', 'subscribe_requested') then
    perform private.enqueue_hook_registration(old.id, 'unsubscribe');
  end if;
  return old;
end
$$;
comment on function private.unregister_deleted_hook() is 'Trigger: a deleted hook job that was registered at the provider requests unsubscription.';
create trigger unregister_deleted_hook before delete on public.hook_jobs
  for each row execute function private.unregister_deleted_hook();

-- Deferred check of one AREA at commit. A transaction touching many rows of one AREA
-- checks it once per batch of writes: statement triggers count writes in area.write_seq (before each statement, so
-- a check fired at the end of it already sees its number), and area.checked remembers
-- "<area>:<seq>" pairs already checked.
create function private.check_area(area_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  area public.areas;
  marker text := ',' || area_id || ':' || coalesce(nullif(current_setting('area.write_seq', true), ''), '0') || ',';
begin
  if position(marker in coalesce(current_setting('area.checked', true), '')) > 0 then
    return;
  end if;
  select * into area from public.areas a where a.id = check_area.area_id;
  if not found then
    return;
  end if;
  perform private.validate_area(public.area_definition(area.id) - 'id', area.user_id, area.enabled);
  perform private.sync_hook_job(area.id);
  -- Workers cache AREA definitions; this tells them (at commit) to drop this one.
  perform pg_notify('area_changed', area.id::text);
  perform set_config('area.checked', coalesce(current_setting('area.checked', true), '') || marker, true);
end
$$;
comment on function private.check_area(uuid) is 'Validates one AREA (complete when enabled) and syncs its hook job; at most once per batch of writes.';

create function private.bump_area_write_seq() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform set_config('area.write_seq',
    (coalesce(nullif(current_setting('area.write_seq', true), ''), '0')::bigint + 1)::text, true);
  return null;
end
$$;
comment on function private.bump_area_write_seq() is 'Statement trigger: counts writes to AREA tables so check_area() knows when to re-check.';

create function private.check_area_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  -- As JSON, one expression serves every table (a record has only its own table's fields).
  rows jsonb[] := array_remove(array[
    case when tg_op <> 'DELETE' then to_jsonb(new) end,
    case when tg_op <> 'INSERT' then to_jsonb(old) end], null);
  affected uuid[];
begin
  if tg_table_name = 'areas' and tg_op = 'UPDATE' and private.only_counters_changed(to_jsonb(old), to_jsonb(new)) then
    return null;
  end if;
  affected := case tg_table_name
    when 'areas' then array(select (r ->> 'id')::uuid from unnest(rows) r)
    when 'area_actions' then array(select (r ->> 'area_id')::uuid from unnest(rows) r)
    when 'area_reactions' then array(select (r ->> 'area_id')::uuid from unnest(rows) r)
    when 'area_action_param_values' then array(
      select aa.area_id from public.area_actions aa
      where aa.id in (select (r ->> 'area_action_id')::uuid from unnest(rows) r))
    when 'area_reaction_param_values' then array(
      select ar.area_id from public.area_reactions ar
      where ar.id in (select (r ->> 'area_reaction_id')::uuid from unnest(rows) r))
  end;
  perform private.check_area(a) from (select distinct unnest(affected) as a) ids where a is not null;
  return null;
end
$$;
comment on function private.check_area_trigger() is 'Deferred constraint trigger: checks the AREAs a row change touches, at commit.';

create constraint trigger check_area after insert or update or delete on public.areas
  deferrable initially deferred for each row execute function private.check_area_trigger();
create constraint trigger check_area after insert or update or delete on public.area_actions
  deferrable initially deferred for each row execute function private.check_area_trigger();
create constraint trigger check_area after insert or update or delete on public.area_reactions
  deferrable initially deferred for each row execute function private.check_area_trigger();
create constraint trigger check_area after insert or update or delete on public.area_action_param_values
  deferrable initially deferred for each row execute function private.check_area_trigger();
create constraint trigger check_area after insert or update or delete on public.area_reaction_param_values
  deferrable initially deferred for each row execute function private.check_area_trigger();

create trigger bump_write_seq before insert or update or delete on public.areas
  for each statement execute function private.bump_area_write_seq();
create trigger bump_write_seq before insert or update or delete on public.area_actions
  for each statement execute function private.bump_area_write_seq();
create trigger bump_write_seq before insert or update or delete on public.area_reactions
  for each statement execute function private.bump_area_write_seq();
create trigger bump_write_seq before insert or update or delete on public.area_action_param_values
  for each statement execute function private.bump_area_write_seq();
create trigger bump_write_seq before insert or update or delete on public.area_reaction_param_values
  for each statement execute function private.bump_area_write_seq();

-- A connection that is deleted, revoked or refused by its provider pauses the enabled AREAs using it, with a reason.
create function private.pause_areas_of_connection() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  reason text := case when tg_op = 'DELETE' then 'its connection was deleted'
                      else format('its connection was %s%s: reconnect the account, then enable the AREA',
                                  case new.status when 'revoked' then 'revoked' else 'refused by the provider' end,
                                  coalesce(' (' || new.last_error || ')', '')) end;
begin
  update public.areas a set enabled = false, paused_reason = reason
  where a.enabled
    and a.id in (select aa.area_id from public.area_actions aa where aa.user_service_id = old.id
                 union select ar.area_id from public.area_reactions ar where ar.user_service_id = old.id);
  return case when tg_op = 'DELETE' then old else new end;
end
$$;
comment on function private.pause_areas_of_connection() is 'Trigger: disables the AREAs of a deleted, revoked or needs_reconnect connection, with paused_reason.';
create trigger pause_areas_on_delete before delete on public.user_services
  for each row execute function private.pause_areas_of_connection();
create trigger pause_areas_on_revoke after update of status on public.user_services
  for each row when (new.status <> 'active' and old.status = 'active')
  execute function private.pause_areas_of_connection();

-- create_area() and friends run as the caller and use the validator: RLS then limits it to
-- the caller's own connections. check_area() runs as its owner to sync hook jobs.
grant execute on function
  private.reject(text, text, text),
  private.param_value_problem(public.param_type, jsonb, text, jsonb),
  private.check_placeholders(text, text, uuid, text),
  private.check_params(text, jsonb, uuid, boolean, uuid, text, text),
  private.check_connection(text, jsonb, public.services, uuid, boolean),
  private.check_keys(text, jsonb, text[]),
  private.validate_area(jsonb, uuid, boolean),
  private.check_area(uuid)
to authenticated, service_role;
