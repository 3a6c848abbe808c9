-- Audit trail of configuration changes, written by triggers whichever client writes.
-- Secrets never reach it: credential-like keys and values of secret params are redacted.

create table public.audit_logs (
  id bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  actor_id uuid,
  actor_role text not null check (actor_role in ('user', 'admin', 'service', 'system')),
  table_name text not null,
  operation text not null check (operation in ('INSERT', 'UPDATE', 'DELETE')),
  row_id uuid not null,
  owner_id uuid,
  diff jsonb not null
);
comment on table public.audit_logs is 'Who changed which configuration row, and how (secrets removed). Written by triggers only.';
comment on column public.audit_logs.id is 'Primary key (insertion order).';
comment on column public.audit_logs.occurred_at is 'Transaction time of the change.';
comment on column public.audit_logs.actor_id is 'auth.uid() of the user who made the change, if a user did.';
comment on column public.audit_logs.actor_role is 'user, admin (JWT app_metadata.role), service (service role: functions, worker) or system (SQL, Studio, migrations).';
comment on column public.audit_logs.table_name is 'The changed table.';
comment on column public.audit_logs.operation is 'INSERT, UPDATE or DELETE.';
comment on column public.audit_logs.row_id is 'Primary key of the changed row.';
comment on column public.audit_logs.owner_id is 'The user owning the changed object (who may read this entry).';
comment on column public.audit_logs.diff is 'INSERT/DELETE: the row; UPDATE: {column: {old, new}} for changed columns. Secrets are "[redacted]".';

create index audit_logs_owner_recent on public.audit_logs (owner_id, occurred_at desc);
create index audit_logs_row on public.audit_logs (table_name, row_id);
create index audit_logs_occurred on public.audit_logs (occurred_at);

create function private.redact(row_data jsonb, secret_value boolean) returns jsonb
language sql immutable
set search_path = ''
as $$
  select coalesce(jsonb_object_agg(key,
    case when key ~* '(secret|token|password|ciphertext|credential|api_key)' or (secret_value and key = 'value')
         then '"[redacted]"'::jsonb else value end), '{}')
  from jsonb_each(row_data)
$$;
comment on function private.redact(jsonb, boolean) is 'Replaces credential-like fields (and a secret param''s value) with "[redacted]".';

create function private.audit_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  old_row jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) end;
  new_row jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) end;
  row_data jsonb := coalesce(new_row, old_row);
  owner uuid;
  secret_value boolean := false;
  diff jsonb;
  claims_role text := auth.jwt() ->> 'role';
begin
  if tg_table_name = 'areas' and tg_op = 'UPDATE' and private.only_counters_changed(old_row, new_row) then
    return null;
  end if;
  owner := case tg_table_name
    when 'areas' then (row_data ->> 'user_id')::uuid
    when 'user_services' then (row_data ->> 'user_id')::uuid
    when 'profiles' then (row_data ->> 'id')::uuid
    when 'area_actions' then (select user_id from public.areas where id = (row_data ->> 'area_id')::uuid)
    when 'area_reactions' then (select user_id from public.areas where id = (row_data ->> 'area_id')::uuid)
    when 'area_action_param_values' then (
      select a.user_id from public.area_actions aa join public.areas a on a.id = aa.area_id
      where aa.id = (row_data ->> 'area_action_id')::uuid)
    when 'area_reaction_param_values' then (
      select a.user_id from public.area_reactions ar join public.areas a on a.id = ar.area_id
      where ar.id = (row_data ->> 'area_reaction_id')::uuid)
  end;
  -- A child deleted with its AREA (cascade) is covered by the AREA's own entry.
  if tg_op = 'DELETE' and owner is null and tg_table_name like 'area\_%' then
    return null;
  end if;
  if tg_table_name in ('area_action_param_values', 'area_reaction_param_values') then
    secret_value := coalesce((select p.type = 'secret' from private.node_params p
                              where p.id = (row_data ->> 'param_id')::uuid), false);
  end if;

  if tg_op = 'UPDATE' then
    select jsonb_object_agg(n.key, jsonb_build_object('old', o.value, 'new', n.value)) into diff
    from jsonb_each(private.redact(new_row, secret_value)) n
    join jsonb_each(private.redact(old_row, secret_value)) o using (key)
    where n.value is distinct from o.value and n.key <> 'updated_at';
    if diff is null then
      return null;
    end if;
  else
    diff := private.redact(row_data, secret_value);
  end if;

  insert into public.audit_logs (actor_id, actor_role, table_name, operation, row_id, owner_id, diff)
  values (
    auth.uid(),
    case
      when auth.uid() is not null and private.is_admin() then 'admin'
      when auth.uid() is not null then 'user'
      when claims_role = 'service_role' or session_user = 'service_role' or current_setting('role', true) = 'service_role' then 'service'
      else 'system'
    end,
    tg_table_name, tg_op, (row_data ->> 'id')::uuid, owner, diff);
  return null;
end
$$;
comment on function private.audit_change() is 'Trigger: records a configuration change in audit_logs, secrets redacted.';

create trigger audit after insert or update or delete on public.areas
  for each row execute function private.audit_change();
create trigger audit after insert or update or delete on public.area_actions
  for each row execute function private.audit_change();
create trigger audit after insert or update or delete on public.area_reactions
  for each row execute function private.audit_change();
create trigger audit after insert or update or delete on public.area_action_param_values
  for each row execute function private.audit_change();
create trigger audit after insert or update or delete on public.area_reaction_param_values
  for each row execute function private.audit_change();
create trigger audit after insert or update or delete on public.user_services
  for each row execute function private.audit_change();
create trigger audit after insert or update or delete on public.profiles
  for each row execute function private.audit_change();
create trigger audit after insert or update or delete on public.services
  for each row execute function private.audit_change();
create trigger audit after insert or update or delete on public.service_actions
  for each row execute function private.audit_change();
create trigger audit after insert or update or delete on public.service_reactions
  for each row execute function private.audit_change();

alter table public.audit_logs enable row level security;
create policy "owners read entries on their objects, admins all" on public.audit_logs for select to authenticated
  using (owner_id = (select auth.uid()) or (select private.is_admin()));
revoke all on public.audit_logs from anon;
revoke insert, update, delete, truncate on public.audit_logs from authenticated;
