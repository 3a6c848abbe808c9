-- Foundations shared by every later migration: the non-exposed schemas, the enums that make
-- bad edits impossible from Studio, and small helpers used by policies and triggers.

-- `private` holds what no API client may read (credentials, secrets) and internal helpers.
-- Clients get USAGE so RLS policies can call the few helpers granted to them; tables in it
-- carry no grants, and functions are not executable unless granted one by one.
create schema if not exists private;
comment on schema private is
  'Not exposed through the Data API: credentials, webhook secrets and internal helper functions.';
revoke all on schema private from public;
grant usage on schema private to anon, authenticated, service_role;

-- `admin` holds read-only views for operators (Studio, SQL); not exposed, no client grants.
create schema if not exists admin;
comment on schema admin is 'Operator views (queue depth, area health, backlogs). Not exposed through the Data API.';
revoke all on schema admin from public;

-- Functions are callable only where granted one by one. PostgreSQL grants EXECUTE to PUBLIC
-- by default and Supabase adds anon and authenticated in `public`: both are revoked for
-- the functions these migrations create, and each client-facing function is granted.
alter default privileges for role postgres revoke execute on functions from public;
alter default privileges for role postgres in schema public revoke execute on functions from anon, authenticated;

create type public.auth_kind as enum ('none', 'oauth2', 'api_key');
comment on type public.auth_kind is 'How a service authenticates: not at all, OAuth2 tokens, or an API key/credentials.';

create type public.param_type as enum ('string', 'number', 'boolean', 'date', 'email', 'url', 'json', 'secret', 'enum');
comment on type public.param_type is
  'Type of an action/reaction parameter or action output. date: ISO 8601 timestamp; secret: a string redacted from audit logs; enum: one of the declared options.';

create type public.connection_status as enum ('active', 'needs_reconnect', 'revoked');
comment on type public.connection_status is
  'A connection''s health: usable, needs the user to reconnect (expired/refused credentials), or revoked.';

create type public.hook_type as enum ('polling', 'webhook');
comment on type public.hook_type is 'How an action is detected: AREA polls the provider, or the provider calls AREA.';

create type public.hook_status as enum ('active', 'paused', 'error');
comment on type public.hook_status is 'active: detecting events; paused: the AREA is disabled; error: stopped after repeated failures.';

create type public.hook_subscription_state as enum (
  'not_required', 'subscribe_requested', 'subscribed', 'unsubscribe_requested', 'unsubscribed'
);
comment on type public.hook_subscription_state is
  'Provider-side registration of a webhook (a GitHub repository hook, a Twitch EventSub subscription).';

create type public.execution_status as enum ('running', 'success', 'failed', 'skipped', 'partial_success');
comment on type public.execution_status is 'Outcome of an execution (action row) or of one reaction (reaction row).';

-- Keeps updated_at honest whichever client writes.
create function private.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
comment on function private.touch_updated_at() is 'Trigger: sets updated_at on every update.';

-- Admins are users whose JWT app_metadata.role is "admin" (set by the service role, never by the user).
create function private.is_admin() returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce(auth.jwt() -> 'app_metadata' ->> 'role', '') = 'admin'
$$;
comment on function private.is_admin() is 'True when the caller''s JWT says app_metadata.role = admin.';
grant execute on function private.is_admin() to anon, authenticated, service_role;

-- True when a regular expression compiles, so catalogue rows cannot hold a broken one.
create function private.is_valid_regex(pattern text) returns boolean
language plpgsql immutable
set search_path = ''
as $$
begin
  perform '' ~ pattern;
  return true;
exception when invalid_regular_expression then
  return false;
end
$$;
comment on function private.is_valid_regex(text) is 'True when the text is a valid PostgreSQL regular expression.';
-- Used by check constraints, which run as whoever writes the row.
grant execute on function private.is_valid_regex(text) to anon, authenticated, service_role;
