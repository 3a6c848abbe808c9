-- OAuth2 access tokens refreshed by the worker (worker/src/refresh.ts), one refresh per connection at
-- a time across all workers: in a transaction, lock_connection_credentials() takes the connection's
-- lock and reads its tokens as they are now (another worker may just have refreshed them); the worker
-- asks the provider only if they are still stale, stores the answer with store_refreshed_credentials()
-- (or marks a dead refresh token with refuse_connection_refresh()) and commits, which releases the
-- lock. Both writes apply only over the very credentials that were read: a reconnection through the
-- OAuth2 callback in the meantime (store_connection) wins over a refresh of the old tokens.

create function private.lock_connection_credentials(connection_id uuid)
returns table (status public.connection_status, token_expires_at timestamptz, key_id text, ciphertext text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- Under repeatable read the snapshot would predate the lock, and the re-read could miss the
  -- tokens the previous holder stored.
  if current_setting('transaction_isolation') <> 'read committed' then
    raise exception 'lock_connection_credentials() needs a read committed transaction' using errcode = '25000';
  end if;
  -- Transaction-scoped: released by commit or rollback, and by the server when a session dies.
  -- The wait is bounded by the caller's lock_timeout.
  perform pg_advisory_xact_lock(hashtext('private.lock_connection_credentials'), hashtext(connection_id::text));
  -- A new statement in a volatile function, so a new snapshot: it sees what the last holder committed.
  return query
    select us.status, us.token_expires_at, c.key_id, c.ciphertext
    from public.user_services us
    left join private.user_service_credentials c on c.user_service_id = us.id
    where us.id = connection_id;
end
$$;
comment on function private.lock_connection_credentials(uuid) is
  'Takes the connection''s refresh lock (pg_advisory_xact_lock, held until the transaction ends; bounded by lock_timeout) and returns its status, token expiry and encrypted credentials as committed now. No row: no such connection. Read committed transactions only (25000 otherwise). Worker only.';

create function private.store_refreshed_credentials(
  connection_id uuid,
  previous_ciphertext text,
  key_id text,
  ciphertext text,
  token_expires_at timestamptz
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  stored int;
begin
  update private.user_service_credentials c
  set key_id = store_refreshed_credentials.key_id, ciphertext = store_refreshed_credentials.ciphertext
  where c.user_service_id = connection_id
    and c.ciphertext = previous_ciphertext
    and exists (select from public.user_services us where us.id = connection_id and us.status = 'active');
  get diagnostics stored = row_count;
  if stored = 0 then
    return false;
  end if;
  update public.user_services us set token_expires_at = store_refreshed_credentials.token_expires_at
  where us.id = connection_id;
  return true;
end
$$;
comment on function private.store_refreshed_credentials(uuid, text, text, text, timestamptz) is
  'Stores a connection''s refreshed tokens (encrypted by the worker) and their expiry, if the connection is active and its credentials are still `previous_ciphertext` (the ones refreshed). False when not (reconnected, deleted or refused meanwhile). Call under lock_connection_credentials(). Worker only.';

create function private.refuse_connection_refresh(connection_id uuid, previous_ciphertext text, reason text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  refused int;
begin
  if reason is null or btrim(reason) = '' then
    raise exception 'a refused refresh needs a reason the user can read' using errcode = '22023';
  end if;
  -- needs_reconnect pauses the AREAs using the connection (trigger pause_areas_on_revoke), with this reason.
  update public.user_services us set status = 'needs_reconnect', last_error = left(reason, 1000)
  where us.id = connection_id
    and us.status = 'active'
    and exists (select from private.user_service_credentials c
                where c.user_service_id = connection_id and c.ciphertext = previous_ciphertext);
  get diagnostics refused = row_count;
  return refused > 0;
end
$$;
comment on function private.refuse_connection_refresh(uuid, text, text) is
  'The provider refused the connection''s refresh token (invalid_grant): marks the connection needs_reconnect with `reason` (which pauses its AREAs), if it is active and its credentials are still `previous_ciphertext`. False when not. Errors: 22023 no reason. Call under lock_connection_credentials(). Worker only.';

revoke all on function
  private.lock_connection_credentials(uuid),
  private.store_refreshed_credentials(uuid, text, text, text, timestamptz),
  private.refuse_connection_refresh(uuid, text, text)
from public, anon, authenticated;
grant execute on function
  private.lock_connection_credentials(uuid),
  private.store_refreshed_credentials(uuid, text, text, text, timestamptz),
  private.refuse_connection_refresh(uuid, text, text)
to service_role;
