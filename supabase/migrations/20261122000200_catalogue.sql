-- The service catalogue: what AREA can do. Every row is derived from packages/nodes and
-- written by public.sync_catalogue() (worker start-up, seed.sql); clients read active rows.

create table public.services (
  id uuid primary key default gen_random_uuid(),
  key text not null unique check (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  name text not null check (length(name) between 1 and 100),
  description text not null default '',
  icon text,
  auth_kind public.auth_kind not null default 'none',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.services is 'Integrated services (GitHub, Discord, timer, …). Derived from packages/nodes by sync_catalogue().';
comment on column public.services.id is 'Primary key.';
comment on column public.services.key is 'Stable identifier used by the API and definitions, e.g. "github".';
comment on column public.services.name is 'Display name.';
comment on column public.services.description is 'What the service offers, for users.';
comment on column public.services.icon is 'Icon name for frontends.';
comment on column public.services.auth_kind is 'Whether a connection (user_services row) is needed, and of which kind.';
comment on column public.services.active is 'False when the service was removed from the code: kept for history, hidden from clients.';
comment on column public.services.created_at is 'When the row was created.';
comment on column public.services.updated_at is 'When the row last changed.';

create table public.service_actions (
  id uuid primary key default gen_random_uuid(),
  service_id uuid not null references public.services (id) on delete cascade,
  key text not null check (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  name text not null check (length(name) between 1 and 100),
  description text not null default '',
  polling_supported boolean not null,
  webhook_supported boolean not null,
  requires_registration boolean not null default false,
  min_polling_interval_seconds integer check (min_polling_interval_seconds > 0),
  default_polling_interval_seconds integer check (default_polling_interval_seconds > 0),
  polling_interval_param text,
  params_schema jsonb not null default '{}',
  outputs_schema jsonb not null default '{}',
  sample jsonb not null default '{}',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (service_id, key),
  check (polling_supported or webhook_supported),
  check (not polling_supported or (min_polling_interval_seconds is not null and default_polling_interval_seconds >= min_polling_interval_seconds)),
  check (not requires_registration or webhook_supported)
);
comment on table public.service_actions is 'Triggers a service offers. Derived from packages/nodes by sync_catalogue().';
comment on column public.service_actions.id is 'Primary key.';
comment on column public.service_actions.service_id is 'The service offering this action.';
comment on column public.service_actions.key is 'Identifier within the service, e.g. "issue_opened".';
comment on column public.service_actions.name is 'Display name.';
comment on column public.service_actions.description is 'What makes it fire.';
comment on column public.service_actions.polling_supported is 'AREA can detect it by polling the provider.';
comment on column public.service_actions.webhook_supported is 'The provider can push it to AREA''s webhook endpoint (preferred when supported).';
comment on column public.service_actions.requires_registration is 'The webhook must be registered at the provider (hook.subscribe / hook.unsubscribe jobs).';
comment on column public.service_actions.min_polling_interval_seconds is 'Lowest polling interval allowed (provider rate limits).';
comment on column public.service_actions.default_polling_interval_seconds is 'Polling interval when the AREA asks for none.';
comment on column public.service_actions.polling_interval_param is 'Name of a param whose value is the polling interval (a timer''s period), if any.';
comment on column public.service_actions.params_schema is 'JSON Schema of the params, derived from the zod declaration.';
comment on column public.service_actions.outputs_schema is 'JSON Schema of the outputs (return values), derived from the zod declaration.';
comment on column public.service_actions.sample is 'An example output, used by test runs.';
comment on column public.service_actions.active is 'False when removed from the code: AREAs using it cannot be enabled.';
comment on column public.service_actions.created_at is 'When the row was created.';
comment on column public.service_actions.updated_at is 'When the row last changed.';

create table public.service_reactions (
  id uuid primary key default gen_random_uuid(),
  service_id uuid not null references public.services (id) on delete cascade,
  key text not null check (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  name text not null check (length(name) between 1 and 100),
  description text not null default '',
  params_schema jsonb not null default '{}',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (service_id, key)
);
comment on table public.service_reactions is 'Things a service can do when an AREA fires. Derived from packages/nodes by sync_catalogue().';
comment on column public.service_reactions.id is 'Primary key.';
comment on column public.service_reactions.service_id is 'The service offering this reaction.';
comment on column public.service_reactions.key is 'Identifier within the service, e.g. "request".';
comment on column public.service_reactions.name is 'Display name.';
comment on column public.service_reactions.description is 'What it does.';
comment on column public.service_reactions.params_schema is 'JSON Schema of the params, derived from the zod declaration.';
comment on column public.service_reactions.active is 'False when removed from the code: AREAs using it cannot be enabled.';
comment on column public.service_reactions.created_at is 'When the row was created.';
comment on column public.service_reactions.updated_at is 'When the row last changed.';

-- Parameters of actions and reactions have the same shape; each table has its own owner column.
create table public.service_action_params (
  id uuid primary key default gen_random_uuid(),
  action_id uuid not null references public.service_actions (id) on delete cascade,
  name text not null check (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$'),
  type public.param_type not null,
  required boolean not null default false,
  default_value jsonb,
  placeholder text,
  validation_regex text check (private.is_valid_regex(validation_regex)),
  options jsonb check (jsonb_typeof(options) = 'array'),
  display_order integer not null default 0,
  description text,
  unique (action_id, name),
  unique (id, action_id),
  check ((type = 'enum') = (options is not null))
);
comment on table public.service_action_params is 'Parameters an action takes (a repository, a channel, an interval).';
comment on column public.service_action_params.id is 'Primary key.';
comment on column public.service_action_params.action_id is 'The action taking this parameter.';
comment on column public.service_action_params.name is 'Parameter name, as used in definitions'' "params".';
comment on column public.service_action_params.type is 'Value type, checked on every write of a value.';
comment on column public.service_action_params.required is 'A value must be given (unless default_value exists).';
comment on column public.service_action_params.default_value is 'Value used when none is given.';
comment on column public.service_action_params.placeholder is 'Example shown in an empty input.';
comment on column public.service_action_params.validation_regex is 'PostgreSQL regular expression string values must match.';
comment on column public.service_action_params.options is 'For enum parameters: the allowed values (JSON array).';
comment on column public.service_action_params.display_order is 'Position in forms.';
comment on column public.service_action_params.description is 'Help text.';

create table public.service_reaction_params (
  id uuid primary key default gen_random_uuid(),
  reaction_id uuid not null references public.service_reactions (id) on delete cascade,
  name text not null check (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$'),
  type public.param_type not null,
  required boolean not null default false,
  default_value jsonb,
  placeholder text,
  validation_regex text check (private.is_valid_regex(validation_regex)),
  options jsonb check (jsonb_typeof(options) = 'array'),
  display_order integer not null default 0,
  description text,
  unique (reaction_id, name),
  unique (id, reaction_id),
  check ((type = 'enum') = (options is not null))
);
comment on table public.service_reaction_params is 'Parameters a reaction takes; values may use {{placeholders}} naming the action''s outputs.';
comment on column public.service_reaction_params.id is 'Primary key.';
comment on column public.service_reaction_params.reaction_id is 'The reaction taking this parameter.';
comment on column public.service_reaction_params.name is 'Parameter name, as used in definitions'' "params".';
comment on column public.service_reaction_params.type is 'Value type, checked on every write of a value (templated strings are checked when rendered).';
comment on column public.service_reaction_params.required is 'A value must be given (unless default_value exists).';
comment on column public.service_reaction_params.default_value is 'Value used when none is given.';
comment on column public.service_reaction_params.placeholder is 'Example shown in an empty input.';
comment on column public.service_reaction_params.validation_regex is 'PostgreSQL regular expression string values must match.';
comment on column public.service_reaction_params.options is 'For enum parameters: the allowed values (JSON array).';
comment on column public.service_reaction_params.display_order is 'Position in forms.';
comment on column public.service_reaction_params.description is 'Help text.';

create table public.service_action_outputs (
  id uuid primary key default gen_random_uuid(),
  action_id uuid not null references public.service_actions (id) on delete cascade,
  name text not null check (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$'),
  type public.param_type not null,
  description text,
  display_order integer not null default 0,
  unique (action_id, name)
);
comment on table public.service_action_outputs is 'An action''s return values: what {{placeholders}} in reaction params may name (json outputs allow dotted paths).';
comment on column public.service_action_outputs.id is 'Primary key.';
comment on column public.service_action_outputs.action_id is 'The action returning this value.';
comment on column public.service_action_outputs.name is 'Output name, as written in {{placeholders}}.';
comment on column public.service_action_outputs.type is 'Value type; {{name.path}} is allowed only into json outputs.';
comment on column public.service_action_outputs.description is 'Help text.';
comment on column public.service_action_outputs.display_order is 'Position in lists.';

create trigger touch_updated_at before update on public.services
  for each row execute function private.touch_updated_at();
create trigger touch_updated_at before update on public.service_actions
  for each row execute function private.touch_updated_at();
create trigger touch_updated_at before update on public.service_reactions
  for each row execute function private.touch_updated_at();

-- RLS: everyone reads the active catalogue (admins read all of it); only the service role
-- (which bypasses RLS) and sync_catalogue() write it.
alter table public.services enable row level security;
alter table public.service_actions enable row level security;
alter table public.service_reactions enable row level security;
alter table public.service_action_params enable row level security;
alter table public.service_reaction_params enable row level security;
alter table public.service_action_outputs enable row level security;

create policy "active services are public" on public.services for select to anon, authenticated
  using (active or (select private.is_admin()));
create policy "active actions are public" on public.service_actions for select to anon, authenticated
  using (active or (select private.is_admin()));
create policy "active reactions are public" on public.service_reactions for select to anon, authenticated
  using (active or (select private.is_admin()));
create policy "params of visible actions are public" on public.service_action_params for select to anon, authenticated
  using (exists (select from public.service_actions a where a.id = action_id));
create policy "params of visible reactions are public" on public.service_reaction_params for select to anon, authenticated
  using (exists (select from public.service_reactions r where r.id = reaction_id));
create policy "outputs of visible actions are public" on public.service_action_outputs for select to anon, authenticated
  using (exists (select from public.service_actions a where a.id = action_id));

revoke insert, update, delete, truncate on public.services, public.service_actions, public.service_reactions,
  public.service_action_params, public.service_reaction_params, public.service_action_outputs
  from anon, authenticated;

-- Upserts one kind of parameter rows for one action or reaction, and deletes the ones the
-- code no longer declares (their stored values go with them: they could never be used).
create function private.sync_params(params_table text, owner_column text, owner_id uuid, params jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  changed integer;
  removed integer;
begin
  execute format($sql$
    insert into public.%1$I as t (%2$I, name, type, required, default_value, placeholder, validation_regex, options,
                                  display_order, description)
    select $1, p.name, p.type, coalesce(p.required, false), p.default_value, p.placeholder, p.validation_regex,
           p.options, coalesce(p.display_order, 0), p.description
    from jsonb_to_recordset($2) as p(name text, type public.param_type, required boolean, default_value jsonb,
                                     placeholder text, validation_regex text, options jsonb, display_order integer,
                                     description text)
    on conflict (%2$I, name) do update set
      type = excluded.type, required = excluded.required, default_value = excluded.default_value,
      placeholder = excluded.placeholder, validation_regex = excluded.validation_regex, options = excluded.options,
      display_order = excluded.display_order, description = excluded.description
    where (t.type, t.required, t.default_value, t.placeholder, t.validation_regex, t.options, t.display_order,
           t.description)
      is distinct from (excluded.type, excluded.required, excluded.default_value, excluded.placeholder,
                        excluded.validation_regex, excluded.options, excluded.display_order, excluded.description)
  $sql$, params_table, owner_column) using owner_id, coalesce(params, '[]');
  get diagnostics changed = row_count;

  execute format(
    'delete from public.%1$I where %2$I = $1 and name <> all (select jsonb_array_elements($2) ->> ''name'')',
    params_table, owner_column
  ) using owner_id, coalesce(params, '[]');
  get diagnostics removed = row_count;
  return changed + removed;
end
$$;
comment on function private.sync_params(text, text, uuid, jsonb) is
  'sync_catalogue() helper: upserts and prunes the param rows of one action or reaction; returns rows changed.';

create function public.sync_catalogue(catalogue jsonb) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  svc jsonb;
  item jsonb;
  svc_id uuid;
  node_id uuid;
  changed integer := 0;
  n integer;
begin
  if jsonb_typeof(catalogue -> 'services') is distinct from 'array' then
    raise exception 'catalogue.services must be an array' using errcode = '22023';
  end if;

  for svc in select jsonb_array_elements(catalogue -> 'services') loop
    insert into public.services as t (key, name, description, icon, auth_kind, active)
    values (svc ->> 'key', svc ->> 'name', coalesce(svc ->> 'description', ''), svc ->> 'icon',
            (svc ->> 'auth_kind')::public.auth_kind, true)
    on conflict (key) do update set
      name = excluded.name, description = excluded.description, icon = excluded.icon,
      auth_kind = excluded.auth_kind, active = true
    where (t.name, t.description, t.icon, t.auth_kind, t.active)
      is distinct from (excluded.name, excluded.description, excluded.icon, excluded.auth_kind, true);
    get diagnostics n = row_count;
    changed := changed + n;
    select id into svc_id from public.services where key = svc ->> 'key';

    for item in select jsonb_array_elements(coalesce(svc -> 'actions', '[]')) loop
      insert into public.service_actions as t (service_id, key, name, description, polling_supported, webhook_supported,
        requires_registration, min_polling_interval_seconds, default_polling_interval_seconds, polling_interval_param,
        params_schema, outputs_schema, sample, active)
      values (svc_id, item ->> 'key', item ->> 'name', coalesce(item ->> 'description', ''),
        (item ->> 'polling_supported')::boolean, (item ->> 'webhook_supported')::boolean,
        coalesce((item ->> 'requires_registration')::boolean, false),
        (item ->> 'min_polling_interval_seconds')::integer, (item ->> 'default_polling_interval_seconds')::integer,
        item ->> 'polling_interval_param', coalesce(item -> 'params_schema', '{}'),
        coalesce(item -> 'outputs_schema', '{}'), coalesce(item -> 'sample', '{}'), true)
      on conflict (service_id, key) do update set
        name = excluded.name, description = excluded.description, polling_supported = excluded.polling_supported,
        webhook_supported = excluded.webhook_supported, requires_registration = excluded.requires_registration,
        min_polling_interval_seconds = excluded.min_polling_interval_seconds,
        default_polling_interval_seconds = excluded.default_polling_interval_seconds,
        polling_interval_param = excluded.polling_interval_param, params_schema = excluded.params_schema,
        outputs_schema = excluded.outputs_schema, sample = excluded.sample, active = true
      where (t.name, t.description, t.polling_supported, t.webhook_supported, t.requires_registration,
             t.min_polling_interval_seconds, t.default_polling_interval_seconds, t.polling_interval_param,
             t.params_schema, t.outputs_schema, t.sample, t.active)
        is distinct from (excluded.name, excluded.description, excluded.polling_supported, excluded.webhook_supported,
             excluded.requires_registration, excluded.min_polling_interval_seconds,
             excluded.default_polling_interval_seconds, excluded.polling_interval_param, excluded.params_schema,
             excluded.outputs_schema, excluded.sample, true);
      get diagnostics n = row_count;
      changed := changed + n;
      select id into node_id from public.service_actions a where a.service_id = svc_id and a.key = item ->> 'key';
      changed := changed + private.sync_params('service_action_params', 'action_id', node_id, item -> 'params');

      insert into public.service_action_outputs as t (action_id, name, type, description, display_order)
      select node_id, o.name, o.type, o.description, coalesce(o.display_order, 0)
      from jsonb_to_recordset(coalesce(item -> 'outputs', '[]'))
        as o(name text, type public.param_type, description text, display_order integer)
      on conflict (action_id, name) do update set
        type = excluded.type, description = excluded.description, display_order = excluded.display_order
      where (t.type, t.description, t.display_order)
        is distinct from (excluded.type, excluded.description, excluded.display_order);
      get diagnostics n = row_count;
      changed := changed + n;
      delete from public.service_action_outputs
      where action_id = node_id
        and name <> all (select jsonb_array_elements(coalesce(item -> 'outputs', '[]')) ->> 'name');
      get diagnostics n = row_count;
      changed := changed + n;
    end loop;

    update public.service_actions set active = false
    where service_actions.service_id = svc_id and active
      and key <> all (select jsonb_array_elements(coalesce(svc -> 'actions', '[]')) ->> 'key');
    get diagnostics n = row_count;
    changed := changed + n;

    for item in select jsonb_array_elements(coalesce(svc -> 'reactions', '[]')) loop
      insert into public.service_reactions as t (service_id, key, name, description, params_schema, active)
      values (svc_id, item ->> 'key', item ->> 'name', coalesce(item ->> 'description', ''),
              coalesce(item -> 'params_schema', '{}'), true)
      on conflict (service_id, key) do update set
        name = excluded.name, description = excluded.description, params_schema = excluded.params_schema, active = true
      where (t.name, t.description, t.params_schema, t.active)
        is distinct from (excluded.name, excluded.description, excluded.params_schema, true);
      get diagnostics n = row_count;
      changed := changed + n;
      select id into node_id from public.service_reactions r where r.service_id = svc_id and r.key = item ->> 'key';
      changed := changed + private.sync_params('service_reaction_params', 'reaction_id', node_id, item -> 'params');
    end loop;

    update public.service_reactions set active = false
    where service_reactions.service_id = svc_id and active
      and key <> all (select jsonb_array_elements(coalesce(svc -> 'reactions', '[]')) ->> 'key');
    get diagnostics n = row_count;
    changed := changed + n;
  end loop;

  update public.services set active = false
  where active and key <> all (select jsonb_array_elements(catalogue -> 'services') ->> 'key');
  get diagnostics n = row_count;
  changed := changed + n;

  return jsonb_build_object('changed', changed);
end
$$;
comment on function public.sync_catalogue(jsonb) is
  'Makes the catalogue tables match packages/nodes: upserts services, actions, reactions, params and outputs, and marks what the code no longer declares inactive. Idempotent; returns {"changed": rows written}. Service role only.';
revoke execute on function public.sync_catalogue(jsonb) from public, anon, authenticated;
grant execute on function public.sync_catalogue(jsonb) to service_role;
