-- Validated composite writes, callable with supabase-js .rpc() as the caller (security
-- invoker: RLS applies). They take the definition shape of POST /api/areas and store it
-- atomically; the same rules also guard direct table writes (20261122000600_area_rules.sql).

-- Stores a params object as value rows of one area action or reaction (after validation).
create function private.store_param_values(values_table text, owner_column text, owner_id uuid,
                                           params_table text, catalogue_column text, catalogue_id uuid, params jsonb)
returns void
language plpgsql
set search_path = ''
as $$
begin
  execute format('delete from public.%I where %I = $1', values_table, owner_column) using owner_id;
  execute format($sql$
    insert into public.%1$I (%2$I, param_id, value)
    select $1, p.id, e.value
    from jsonb_each(coalesce($3, '{}')) e
    join public.%3$I p on p.%4$I = $2 and p.name = e.key
    where e.value <> 'null'
  $sql$, values_table, owner_column, params_table, catalogue_column) using owner_id, catalogue_id, params;
end
$$;
comment on function private.store_param_values(text, text, uuid, text, text, uuid, jsonb) is
  'Replaces the stored param values of an area action or reaction with a (validated) params object.';

create function private.catalogue_action_id(action jsonb) returns uuid
language sql stable
set search_path = ''
as $$
  select sa.id from public.service_actions sa join public.services s on s.id = sa.service_id
  where s.key = action ->> 'service' and sa.key = action ->> 'name'
$$;
comment on function private.catalogue_action_id(jsonb) is 'The service_actions id a definition''s action names.';

create function private.catalogue_reaction_id(reaction jsonb) returns uuid
language sql stable
set search_path = ''
as $$
  select sr.id from public.service_reactions sr join public.services s on s.id = sr.service_id
  where s.key = reaction ->> 'service' and sr.key = reaction ->> 'name'
$$;
comment on function private.catalogue_reaction_id(jsonb) is 'The service_reactions id a definition''s reaction names.';
grant execute on function private.catalogue_action_id(jsonb), private.catalogue_reaction_id(jsonb),
  private.store_param_values(text, text, uuid, text, text, uuid, jsonb) to authenticated, service_role;

-- Writes the action and reactions of a validated definition onto an existing AREA. Rows are
-- updated in place where the catalogue node stays the same, so history rows keep their target.
create function private.apply_definition(area_id uuid, definition jsonb) returns void
language plpgsql
set search_path = ''
as $$
declare
  action_id uuid;
  area_action public.area_actions;
  reaction jsonb;
  reaction_position integer;
  reaction_id uuid;
  area_reaction public.area_reactions;
begin
  if definition ? 'action' then
    action_id := private.catalogue_action_id(definition -> 'action');
    select * into area_action from public.area_actions aa where aa.area_id = apply_definition.area_id;
    if area_action.id is not null and area_action.service_action_id <> action_id then
      delete from public.area_actions where id = area_action.id;
      area_action := null;
    end if;
    if area_action.id is null then
      insert into public.area_actions (area_id, service_action_id, user_service_id, polling_interval_seconds)
      values (apply_definition.area_id, action_id, (definition -> 'action' ->> 'connection_id')::uuid,
              (definition -> 'action' ->> 'polling_interval_seconds')::integer)
      returning * into area_action;
    else
      update public.area_actions set
        user_service_id = (definition -> 'action' ->> 'connection_id')::uuid,
        polling_interval_seconds = (definition -> 'action' ->> 'polling_interval_seconds')::integer
      where id = area_action.id;
    end if;
    perform private.store_param_values('area_action_param_values', 'area_action_id', area_action.id,
      'service_action_params', 'action_id', action_id, definition -> 'action' -> 'params');
  end if;

  if definition ? 'reactions' then
    for reaction, reaction_position in
      select r.value, r.ordinality - 1 from jsonb_array_elements(definition -> 'reactions') with ordinality r
    loop
      reaction_id := private.catalogue_reaction_id(reaction);
      select * into area_reaction from public.area_reactions ar
      where ar.area_id = apply_definition.area_id and ar.position = reaction_position;
      if area_reaction.id is not null and area_reaction.service_reaction_id <> reaction_id then
        delete from public.area_reactions where id = area_reaction.id;
        area_reaction := null;
      end if;
      if area_reaction.id is null then
        insert into public.area_reactions (area_id, service_reaction_id, user_service_id, position, continue_on_error)
        values (apply_definition.area_id, reaction_id, (reaction ->> 'connection_id')::uuid, reaction_position,
                coalesce((reaction ->> 'continue_on_error')::boolean, false))
        returning * into area_reaction;
      else
        update public.area_reactions set
          user_service_id = (reaction ->> 'connection_id')::uuid,
          continue_on_error = coalesce((reaction ->> 'continue_on_error')::boolean, false)
        where id = area_reaction.id;
      end if;
      perform private.store_param_values('area_reaction_param_values', 'area_reaction_id', area_reaction.id,
        'service_reaction_params', 'reaction_id', reaction_id, reaction -> 'params');
    end loop;
    delete from public.area_reactions ar
    where ar.area_id = apply_definition.area_id and ar.position >= jsonb_array_length(definition -> 'reactions');
  end if;
end
$$;
comment on function private.apply_definition(uuid, jsonb) is
  'Writes a validated definition''s action and reactions onto an AREA, in place where the catalogue node is unchanged.';
grant execute on function private.apply_definition(uuid, jsonb) to authenticated, service_role;

-- The API's view of an AREA after a write: its definition, hook job, and — only in the
-- transaction that created the hook job — the webhook secret (shown once).
create function private.area_result(area_id uuid) returns jsonb
language sql stable
security definer
set search_path = ''
as $$
  select public.area_definition(a.id)
    || jsonb_build_object(
      'created_at', a.created_at, 'updated_at', a.updated_at, 'paused_reason', a.paused_reason,
      'triggered_count', a.triggered_count, 'last_triggered_at', a.last_triggered_at,
      'hook', (select jsonb_build_object('id', h.id, 'type', h.type, 'status', h.status,
                      'polling_interval_seconds', h.polling_interval_seconds, 'next_run_at', h.next_run_at)
               from public.hook_jobs h where h.area_id = a.id),
      'webhook', (select jsonb_build_object(
                    'endpoint', h.webhook_endpoint,
                    'secret', (select s.secret from private.hook_job_secrets s
                               where s.hook_job_id = h.id and s.key_id is null
                                 and s.xmin::text::bigint = txid_current() % 4294967296))
                  from public.hook_jobs h where h.area_id = a.id and h.type = 'webhook'))
  from public.areas a
  where a.id = area_result.area_id and a.user_id = (select auth.uid())
$$;
comment on function private.area_result(uuid) is
  'The caller''s AREA as the API returns it; includes the webhook secret only in the transaction that issued it.';
grant execute on function private.area_result(uuid) to authenticated, service_role;

create function private.require_user() returns uuid
language plpgsql stable
set search_path = ''
as $$
begin
  if auth.uid() is null then
    raise exception 'sign in first: this needs a user''s access token' using errcode = '42501';
  end if;
  return auth.uid();
end
$$;
comment on function private.require_user() is 'The caller''s user id, or an insufficient_privilege error for anonymous callers.';
grant execute on function private.require_user() to anon, authenticated, service_role;

create function public.create_area(definition jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  owner uuid := private.require_user();
  area_id uuid;
begin
  perform private.validate_area(definition, owner, true);
  insert into public.areas (user_id, name, description, enabled, condition)
  values (owner, btrim(definition ->> 'name'), definition ->> 'description',
          coalesce((definition ->> 'enabled')::boolean, true), nullif(definition -> 'condition', 'null'))
  returning id into area_id;
  perform private.apply_definition(area_id, definition);
  perform private.check_area(area_id);
  return private.area_result(area_id);
end
$$;
comment on function public.create_area(jsonb) is
  'Creates an AREA from a definition {name, description?, enabled?, condition?, action{service, name, params, connection_id?, polling_interval_seconds?}, reactions[1..10]{service, name, params, connection_id?, continue_on_error?}}. Validates against the catalogue (errors: 22023, "<path>: <message>"); returns the AREA with its hook job and, for webhook actions, the endpoint and the secret (shown once).';
grant execute on function public.create_area(jsonb) to authenticated;

create function public.update_area(area_id uuid, changes jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  owner uuid := private.require_user();
  current jsonb := public.area_definition(area_id);
  merged jsonb;
begin
  if current is null or not exists (select from public.areas a where a.id = area_id and a.user_id = owner) then
    raise exception 'AREA % not found', area_id using errcode = 'P0002';
  end if;
  if jsonb_typeof(changes) is distinct from 'object' then
    perform private.reject('', 'type', 'the changes must be a JSON object');
  end if;
  merged := (current - 'id') || (changes - 'id');
  perform private.validate_area(merged, owner, (merged ->> 'enabled')::boolean);
  update public.areas a set
    name = btrim(merged ->> 'name'), description = merged ->> 'description',
    enabled = (merged ->> 'enabled')::boolean, condition = nullif(merged -> 'condition', 'null')
  where a.id = area_id;
  perform private.apply_definition(area_id, changes);
  perform private.check_area(area_id);
  return private.area_result(area_id);
end
$$;
comment on function public.update_area(uuid, jsonb) is
  'Changes an AREA: fields given replace the current ones (action and reactions as a whole). Same validation as create_area().';
grant execute on function public.update_area(uuid, jsonb) to authenticated;

create function public.set_area_enabled(area_id uuid, enabled boolean) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  owner uuid := private.require_user();
begin
  update public.areas a set enabled = set_area_enabled.enabled
  where a.id = area_id and a.user_id = owner;
  if not found then
    raise exception 'AREA % not found', area_id using errcode = 'P0002';
  end if;
  perform private.check_area(area_id);
  return private.area_result(area_id);
end
$$;
comment on function public.set_area_enabled(uuid, boolean) is
  'Enables (after checking the AREA is complete) or disables an AREA; its hook job follows.';
grant execute on function public.set_area_enabled(uuid, boolean) to authenticated;
