-- Users' profiles and their connections to services. Credentials live apart, in `private`,
-- encrypted by the application (AES-256-GCM): no client role can read them, owner included.

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  display_name text check (length(display_name) <= 100),
  avatar_url text check (avatar_url ~ '^https?://'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.profiles is 'One per auth user, created by a trigger on auth.users.';
comment on column public.profiles.id is 'The auth.users id.';
comment on column public.profiles.display_name is 'Name shown in frontends.';
comment on column public.profiles.avatar_url is 'Picture URL (http or https).';
comment on column public.profiles.created_at is 'When the profile was created.';
comment on column public.profiles.updated_at is 'When the profile last changed.';

create trigger touch_updated_at before update on public.profiles
  for each row execute function private.touch_updated_at();

create function private.create_profile() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, display_name, avatar_url)
  values (
    new.id,
    left(coalesce(new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'name', split_part(new.email, '@', 1)), 100),
    nullif(new.raw_user_meta_data ->> 'avatar_url', '')
  )
  on conflict (id) do nothing;
  return new;
end
$$;
comment on function private.create_profile() is 'Trigger on auth.users: creates the user''s profile from their metadata.';

create trigger create_profile after insert on auth.users
  for each row execute function private.create_profile();

alter table public.profiles enable row level security;
create policy "users read their profile, admins all" on public.profiles for select to authenticated
  using (id = (select auth.uid()) or (select private.is_admin()));
create policy "users edit their profile" on public.profiles for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));
revoke all on public.profiles from anon;
revoke insert, delete, truncate on public.profiles from authenticated;
revoke update on public.profiles from authenticated;
grant update (display_name, avatar_url) on public.profiles to authenticated;

create table public.user_services (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  service_id uuid not null references public.services (id),
  label text check (length(label) <= 100),
  provider_account_id text,
  provider_login text,
  provider_email text,
  scopes text[] not null default '{}',
  token_expires_at timestamptz,
  status public.connection_status not null default 'active',
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, service_id, provider_account_id),
  unique (id, user_id),
  check (status = 'active' or last_error is not null)
);
comment on table public.user_services is
  'A user''s connection to a service account. Credentials are stored encrypted in private.user_service_credentials.';
comment on column public.user_services.id is 'Primary key; AREAs reference it as connection_id.';
comment on column public.user_services.user_id is 'Owner.';
comment on column public.user_services.service_id is 'The connected service.';
comment on column public.user_services.label is 'Optional name the user gives the connection.';
comment on column public.user_services.provider_account_id is 'The account''s id at the provider.';
comment on column public.user_services.provider_login is 'The account''s login or handle at the provider.';
comment on column public.user_services.provider_email is 'The account''s email at the provider, when known.';
comment on column public.user_services.scopes is 'OAuth scopes granted.';
comment on column public.user_services.token_expires_at is 'When the access token expires (refreshed by the worker before then).';
comment on column public.user_services.status is 'active, needs_reconnect (credentials refused or expired) or revoked.';
comment on column public.user_services.last_error is 'Why the connection is not active, in words a user can act on.';
comment on column public.user_services.created_at is 'When the connection was made.';
comment on column public.user_services.updated_at is 'When it last changed.';

create index user_services_user on public.user_services (user_id);
create index user_services_service on public.user_services (service_id);
create index user_services_not_active on public.user_services (status) where status <> 'active';
create trigger touch_updated_at before update on public.user_services
  for each row execute function private.touch_updated_at();

create table private.user_service_credentials (
  user_service_id uuid primary key references public.user_services (id) on delete cascade,
  key_id text not null,
  ciphertext text not null,
  updated_at timestamptz not null default now()
);
comment on table private.user_service_credentials is
  'Encrypted credentials of a connection (tokens, API keys): base64 of AES-256-GCM iv || ciphertext || tag, under the key named by key_id. The database never sees the key.';
comment on column private.user_service_credentials.user_service_id is 'The connection.';
comment on column private.user_service_credentials.key_id is 'Which AREA_ENCRYPTION_KEY encrypted it (for rotation).';
comment on column private.user_service_credentials.ciphertext is 'base64(iv || ciphertext || tag) of the JSON credentials.';
comment on column private.user_service_credentials.updated_at is 'When the credentials were last written (refresh, reconnect).';
create trigger touch_updated_at before update on private.user_service_credentials
  for each row execute function private.touch_updated_at();

alter table public.user_services enable row level security;
create policy "users read their connections, admins all" on public.user_services for select to authenticated
  using (user_id = (select auth.uid()) or (select private.is_admin()));
create policy "users rename their connections" on public.user_services for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "users delete their connections" on public.user_services for delete to authenticated
  using (user_id = (select auth.uid()));
-- Connections are created by the OAuth flow or the API (service role), which store the credentials too.
revoke all on public.user_services from anon;
revoke insert, truncate on public.user_services from authenticated;
revoke update on public.user_services from authenticated;
grant update (label) on public.user_services to authenticated;
