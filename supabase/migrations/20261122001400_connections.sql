-- OAuth2 connections: what the api function's callback stores once a provider has granted a token.
-- The tokens arrive encrypted (AES-256-GCM by the function: the database never holds the key) and
-- go to private.user_service_credentials, which no client role can read, owner included. The
-- function runs as the service role; these functions are granted to it alone.

-- The states an OAuth2 callback has used, kept until they expire: a state is accepted once.
create table private.oauth_states (
  jti uuid primary key,
  expires_at timestamptz not null
);
comment on table private.oauth_states is
  'OAuth2 states already used by a callback (their jti claim), kept until they expire, so a state is accepted once.';
comment on column private.oauth_states.jti is 'The state''s unique id (JWT jti).';
comment on column private.oauth_states.expires_at is 'When the state expires; the row is purged after that.';
create index oauth_states_expires on private.oauth_states (expires_at);

create function private.consume_oauth_state(state_id uuid, state_expires_at timestamptz) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  consumed boolean;
begin
  -- Housekeeping on the way: a state past its expiry is refused on its own, its row is useless.
  delete from private.oauth_states s where s.expires_at < now() - interval '1 minute';
  insert into private.oauth_states (jti, expires_at) values (state_id, state_expires_at)
  on conflict (jti) do nothing;
  get diagnostics consumed = row_count;
  return consumed;
end
$$;
comment on function private.consume_oauth_state(uuid, timestamptz) is
  'Marks an OAuth2 state (its jti) used: true the first time, false on a replay. Purges expired entries.';

create function private.store_connection(
  owner uuid,
  service_key text,
  provider_account_id text,
  provider_login text,
  provider_email text,
  scopes text[],
  token_expires_at timestamptz,
  key_id text,
  ciphertext text
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  connection_id uuid;
begin
  if provider_account_id is null or provider_account_id = '' then
    raise exception 'a connection needs the provider''s account id' using errcode = '22023';
  end if;
  -- One connection per (user, service, provider account): reconnecting refreshes it and makes it active again.
  insert into public.user_services as us (user_id, service_id, provider_account_id, provider_login, provider_email,
                                          scopes, token_expires_at, status, last_error)
  select owner, s.id, store_connection.provider_account_id, store_connection.provider_login,
         store_connection.provider_email, coalesce(store_connection.scopes, '{}'), store_connection.token_expires_at,
         'active', null
  from public.services s
  where s.key = service_key and s.active
  on conflict (user_id, service_id, provider_account_id) do update
    set provider_login = excluded.provider_login,
        provider_email = excluded.provider_email,
        scopes = excluded.scopes,
        token_expires_at = excluded.token_expires_at,
        status = 'active',
        last_error = null
  returning us.id into connection_id;
  if connection_id is null then
    raise exception 'service % not found', service_key using errcode = 'P0002';
  end if;
  insert into private.user_service_credentials as c (user_service_id, key_id, ciphertext)
  values (connection_id, store_connection.key_id, store_connection.ciphertext)
  on conflict (user_service_id) do update set key_id = excluded.key_id, ciphertext = excluded.ciphertext;
  return connection_id;
end
$$;
comment on function private.store_connection(uuid, text, text, text, text, text[], timestamptz, text, text) is
  'Creates or refreshes a user''s connection to a provider account (unique per user, service and account) with its encrypted credentials, and makes it active. Called by the api function''s OAuth2 callback as the service role. Errors: P0002 unknown service, 22023 no account id.';

-- Revoking a token at the provider needs it in clear: the function reads it for the connection's owner only.
create function private.connection_credentials(connection_id uuid, owner uuid)
returns table (key_id text, ciphertext text)
language sql
stable
security definer
set search_path = ''
as $$
  select c.key_id, c.ciphertext
  from private.user_service_credentials c join public.user_services us on us.id = c.user_service_id
  where us.id = connection_id and us.user_id = owner
$$;
comment on function private.connection_credentials(uuid, uuid) is
  'The encrypted credentials of a connection, if `owner` owns it (the api function revokes the token before deleting a connection). Service role only.';

revoke all on function private.consume_oauth_state(uuid, timestamptz) from public, anon, authenticated;
revoke all on function private.connection_credentials(uuid, uuid) from public, anon, authenticated;
revoke all on function private.store_connection(uuid, text, text, text, text, text[], timestamptz, text, text)
  from public, anon, authenticated;
grant execute on function
  private.consume_oauth_state(uuid, timestamptz),
  private.connection_credentials(uuid, uuid),
  private.store_connection(uuid, text, text, text, text, text[], timestamptz, text, text)
to service_role;
