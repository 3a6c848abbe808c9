-- AREAs: one action and 1..N reactions with their parameter values. Users write them through
-- create_area()/update_area() or directly with supabase-js; either way the same rules hold
-- (see 20261122000600_area_rules.sql).

create table public.areas (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 100),
  description text check (length(description) <= 1000),
  enabled boolean not null default false,
  condition jsonb check (jsonb_typeof(condition) = 'object'),
  paused_reason text,
  last_triggered_at timestamptz,
  triggered_count bigint not null default 0 check (triggered_count >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (not (enabled and paused_reason is not null))
);
comment on table public.areas is 'An automation: when its action fires, its reactions run in position order.';
comment on column public.areas.id is 'Primary key.';
comment on column public.areas.user_id is 'Owner.';
comment on column public.areas.name is 'Name (1 to 100 characters).';
comment on column public.areas.description is 'Optional description (up to 1000 characters).';
comment on column public.areas.enabled is 'Whether the action is being watched. Enabling requires a complete, valid definition.';
comment on column public.areas.condition is 'Optional filter on the action''s outputs, checked before the reactions run.';
comment on column public.areas.paused_reason is 'Why AREA disabled it (a revoked or deleted connection), for the user to read.';
comment on column public.areas.last_triggered_at is 'When the action last fired.';
comment on column public.areas.triggered_count is 'How many times the action fired.';
comment on column public.areas.created_at is 'When the AREA was created.';
comment on column public.areas.updated_at is 'When the AREA row last changed.';

create index areas_user_recent on public.areas (user_id, created_at desc);

create table public.area_actions (
  id uuid primary key default gen_random_uuid(),
  area_id uuid not null unique references public.areas (id) on delete cascade,
  service_action_id uuid not null references public.service_actions (id),
  user_service_id uuid references public.user_services (id) on delete set null,
  polling_interval_seconds integer check (polling_interval_seconds > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, service_action_id)
);
comment on table public.area_actions is 'The action (trigger) of an AREA: exactly one per AREA.';
comment on column public.area_actions.id is 'Primary key.';
comment on column public.area_actions.area_id is 'The AREA.';
comment on column public.area_actions.service_action_id is 'Which catalogue action.';
comment on column public.area_actions.user_service_id is 'The connection whose credentials the action uses (when its service needs one).';
comment on column public.area_actions.polling_interval_seconds is 'Requested polling interval; the action''s minimum applies.';
comment on column public.area_actions.created_at is 'When the row was created.';
comment on column public.area_actions.updated_at is 'When the row last changed.';

create index area_actions_connection on public.area_actions (user_service_id);
create index area_actions_service_action on public.area_actions (service_action_id);

create table public.area_reactions (
  id uuid primary key default gen_random_uuid(),
  area_id uuid not null references public.areas (id) on delete cascade,
  service_reaction_id uuid not null references public.service_reactions (id),
  user_service_id uuid references public.user_services (id) on delete set null,
  position integer not null check (position between 0 and 9),
  continue_on_error boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (area_id, position) deferrable initially deferred,
  unique (id, service_reaction_id)
);
comment on table public.area_reactions is 'The reactions of an AREA (1 to 10), run in position order.';
comment on column public.area_reactions.id is 'Primary key.';
comment on column public.area_reactions.area_id is 'The AREA.';
comment on column public.area_reactions.service_reaction_id is 'Which catalogue reaction.';
comment on column public.area_reactions.user_service_id is 'The connection whose credentials the reaction uses (when its service needs one).';
comment on column public.area_reactions.position is 'Run order, 0 first (unique per AREA; reordering may swap within a transaction).';
comment on column public.area_reactions.continue_on_error is 'When this reaction fails, still run the following ones.';
comment on column public.area_reactions.created_at is 'When the row was created.';
comment on column public.area_reactions.updated_at is 'When the row last changed.';

create index area_reactions_connection on public.area_reactions (user_service_id);
create index area_reactions_service_reaction on public.area_reactions (service_reaction_id);

-- A value's param must belong to the action (reaction) the row's area action (reaction) uses:
-- the composite foreign keys make any other pairing impossible, whichever client writes.
create table public.area_action_param_values (
  id uuid primary key default gen_random_uuid(),
  area_action_id uuid not null,
  service_action_id uuid not null,
  param_id uuid not null,
  value jsonb not null,
  unique (area_action_id, param_id),
  foreign key (area_action_id, service_action_id)
    references public.area_actions (id, service_action_id) on delete cascade on update cascade,
  foreign key (param_id, service_action_id)
    references public.service_action_params (id, action_id) on delete cascade
);
comment on table public.area_action_param_values is 'Values of the action''s params for one AREA.';
comment on column public.area_action_param_values.id is 'Primary key.';
comment on column public.area_action_param_values.area_action_id is 'The AREA''s action.';
comment on column public.area_action_param_values.service_action_id is 'Filled in from the area action: ties the param to the same catalogue action.';
comment on column public.area_action_param_values.param_id is 'Which param (service_action_params).';
comment on column public.area_action_param_values.value is 'The value (JSON), checked against the param''s type, regex and options.';

create table public.area_reaction_param_values (
  id uuid primary key default gen_random_uuid(),
  area_reaction_id uuid not null,
  service_reaction_id uuid not null,
  param_id uuid not null,
  value jsonb not null,
  unique (area_reaction_id, param_id),
  foreign key (area_reaction_id, service_reaction_id)
    references public.area_reactions (id, service_reaction_id) on delete cascade on update cascade,
  foreign key (param_id, service_reaction_id)
    references public.service_reaction_params (id, reaction_id) on delete cascade
);
comment on table public.area_reaction_param_values is 'Values of one reaction''s params; strings may hold {{placeholders}} naming the action''s outputs.';
comment on column public.area_reaction_param_values.id is 'Primary key.';
comment on column public.area_reaction_param_values.area_reaction_id is 'The AREA''s reaction.';
comment on column public.area_reaction_param_values.service_reaction_id is 'Filled in from the area reaction: ties the param to the same catalogue reaction.';
comment on column public.area_reaction_param_values.param_id is 'Which param (service_reaction_params).';
comment on column public.area_reaction_param_values.value is 'The value (JSON); templated strings are checked when rendered.';

create index area_action_param_values_param on public.area_action_param_values (param_id, service_action_id);
create index area_reaction_param_values_param on public.area_reaction_param_values (param_id, service_reaction_id);
create index area_action_param_values_owner on public.area_action_param_values (area_action_id, service_action_id);
create index area_reaction_param_values_owner on public.area_reaction_param_values (area_reaction_id, service_reaction_id);

-- Clients need not send the catalogue id twice: it is copied from the area action/reaction.
create function private.fill_param_value_owner() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- As JSON, one body serves both tables (a record has only its own table's fields).
  if tg_table_name = 'area_action_param_values' then
    new := jsonb_populate_record(new, jsonb_build_object('service_action_id',
      (select service_action_id from public.area_actions where id = (to_jsonb(new) ->> 'area_action_id')::uuid)));
  else
    new := jsonb_populate_record(new, jsonb_build_object('service_reaction_id',
      (select service_reaction_id from public.area_reactions where id = (to_jsonb(new) ->> 'area_reaction_id')::uuid)));
  end if;
  return new;
end
$$;
comment on function private.fill_param_value_owner() is
  'Trigger: copies the catalogue action/reaction id from the area action/reaction onto a param value row.';

create trigger fill_owner before insert or update of area_action_id on public.area_action_param_values
  for each row execute function private.fill_param_value_owner();
create trigger fill_owner before insert or update of area_reaction_id on public.area_reaction_param_values
  for each row execute function private.fill_param_value_owner();

-- The worker bumps the run counters after executions: that is activity, not a change of the
-- AREA, so it neither touches updated_at nor re-validates nor audits (see the triggers).
create function private.only_counters_changed(old_row jsonb, new_row jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select old_row - array['last_triggered_at', 'triggered_count', 'updated_at']
       = new_row - array['last_triggered_at', 'triggered_count', 'updated_at']
$$;
comment on function private.only_counters_changed(jsonb, jsonb) is
  'True when an update of an areas row changed only its run counters (last_triggered_at, triggered_count).';
-- Trigger WHEN clauses run as the writer.
grant execute on function private.only_counters_changed(jsonb, jsonb) to authenticated, service_role;

create trigger touch_updated_at before update on public.areas
  for each row when (not private.only_counters_changed(to_jsonb(old), to_jsonb(new)))
  execute function private.touch_updated_at();
create trigger touch_updated_at before update on public.area_actions
  for each row execute function private.touch_updated_at();
create trigger touch_updated_at before update on public.area_reactions
  for each row execute function private.touch_updated_at();

-- RLS: owners have full access; children are reached through the owning area. Admins read all.
create function private.owns_area(area uuid) returns boolean
language sql stable
security definer
set search_path = ''
as $$
  select exists (select from public.areas where id = area and user_id = (select auth.uid()))
$$;
comment on function private.owns_area(uuid) is 'True when the caller owns the AREA (used by RLS policies of AREA children).';
grant execute on function private.owns_area(uuid) to authenticated;

create function private.owns_connection(connection uuid) returns boolean
language sql stable
security definer
set search_path = ''
as $$
  select connection is null
      or exists (select from public.user_services where id = connection and user_id = (select auth.uid()))
$$;
comment on function private.owns_connection(uuid) is 'True when the connection is null or the caller''s own.';
grant execute on function private.owns_connection(uuid) to authenticated;

alter table public.areas enable row level security;
alter table public.area_actions enable row level security;
alter table public.area_reactions enable row level security;
alter table public.area_action_param_values enable row level security;
alter table public.area_reaction_param_values enable row level security;

create policy "owners read, admins read all" on public.areas for select to authenticated
  using (user_id = (select auth.uid()) or (select private.is_admin()));
create policy "owners create" on public.areas for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy "owners update" on public.areas for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "owners delete" on public.areas for delete to authenticated
  using (user_id = (select auth.uid()));

create policy "owners read, admins read all" on public.area_actions for select to authenticated
  using ((select private.owns_area(area_id)) or (select private.is_admin()));
create policy "owners create" on public.area_actions for insert to authenticated
  with check ((select private.owns_area(area_id)) and (select private.owns_connection(user_service_id)));
create policy "owners update" on public.area_actions for update to authenticated
  using ((select private.owns_area(area_id)))
  with check ((select private.owns_area(area_id)) and (select private.owns_connection(user_service_id)));
create policy "owners delete" on public.area_actions for delete to authenticated
  using ((select private.owns_area(area_id)));

create policy "owners read, admins read all" on public.area_reactions for select to authenticated
  using ((select private.owns_area(area_id)) or (select private.is_admin()));
create policy "owners create" on public.area_reactions for insert to authenticated
  with check ((select private.owns_area(area_id)) and (select private.owns_connection(user_service_id)));
create policy "owners update" on public.area_reactions for update to authenticated
  using ((select private.owns_area(area_id)))
  with check ((select private.owns_area(area_id)) and (select private.owns_connection(user_service_id)));
create policy "owners delete" on public.area_reactions for delete to authenticated
  using ((select private.owns_area(area_id)));

create policy "owners read, admins read all" on public.area_action_param_values for select to authenticated
  using (exists (select from public.area_actions a where a.id = area_action_id));
create policy "owners create" on public.area_action_param_values for insert to authenticated
  with check (exists (select from public.area_actions a where a.id = area_action_id and (select private.owns_area(a.area_id))));
create policy "owners update" on public.area_action_param_values for update to authenticated
  using (exists (select from public.area_actions a where a.id = area_action_id and (select private.owns_area(a.area_id))))
  with check (exists (select from public.area_actions a where a.id = area_action_id and (select private.owns_area(a.area_id))));
create policy "owners delete" on public.area_action_param_values for delete to authenticated
  using (exists (select from public.area_actions a where a.id = area_action_id and (select private.owns_area(a.area_id))));

create policy "owners read, admins read all" on public.area_reaction_param_values for select to authenticated
  using (exists (select from public.area_reactions r where r.id = area_reaction_id));
create policy "owners create" on public.area_reaction_param_values for insert to authenticated
  with check (exists (select from public.area_reactions r where r.id = area_reaction_id and (select private.owns_area(r.area_id))));
create policy "owners update" on public.area_reaction_param_values for update to authenticated
  using (exists (select from public.area_reactions r where r.id = area_reaction_id and (select private.owns_area(r.area_id))))
  with check (exists (select from public.area_reactions r where r.id = area_reaction_id and (select private.owns_area(r.area_id))));
create policy "owners delete" on public.area_reaction_param_values for delete to authenticated
  using (exists (select from public.area_reactions r where r.id = area_reaction_id and (select private.owns_area(r.area_id))));

revoke all on public.areas, public.area_actions, public.area_reactions, public.area_action_param_values,
  public.area_reaction_param_values from anon;
revoke truncate on public.areas, public.area_actions, public.area_reactions, public.area_action_param_values,
  public.area_reaction_param_values from authenticated;
-- Counters and the pause reason are AREA's to set, not the user's.
revoke update on public.areas from authenticated;
grant update (name, description, enabled, condition) on public.areas to authenticated;

-- Re-enabling an AREA clears the reason AREA paused it for.
create function private.clear_paused_reason() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.enabled and not old.enabled then
    new.paused_reason := null;
  end if;
  return new;
end
$$;
comment on function private.clear_paused_reason() is 'Trigger: enabling an AREA clears paused_reason.';
create trigger clear_paused_reason before update of enabled on public.areas
  for each row execute function private.clear_paused_reason();
