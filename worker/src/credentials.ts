// A connection's credentials, decrypted only in the worker's memory for the job that needs them.
import { type Keyring, unseal } from "@area/nodes/crypto";
import { AuthError } from "@area/nodes/errors";
import type pg from "pg";

export interface StoredCredentials {
  /** The decrypted credentials ({} when none are stored). */
  credentials: Record<string, unknown>;
  /** As stored, sealed: a refresh writes its tokens only over this very value (refresh.ts). Null: none stored. */
  ciphertext: string | null;
  /** user_services.token_expires_at: when the access token expires, null when it does not. */
  tokenExpiresAt: Date | null;
}

interface CredentialsRow {
  status: string;
  token_expires_at: Date | null;
  key_id: string | null;
  ciphertext: string | null;
}

const READ = `select c.status, c.token_expires_at, k.key_id, k.ciphertext
  from public.user_services c left join private.user_service_credentials k on k.user_service_id = c.id
  where c.id = $1`;
/** The same row, read after taking the connection's refresh lock (held until the transaction ends). */
const READ_LOCKED = `select status, token_expires_at, key_id, ciphertext from private.lock_connection_credentials($1)`;

/**
 * The credentials of an active connection; an AuthError when it is gone or not active. With `lock`
 * (on a client in a transaction), read under the connection's refresh lock.
 */
export async function loadCredentials(
  db: pg.Pool | pg.PoolClient,
  keyring: Keyring,
  connectionId: string,
  options: { lock?: boolean } = {},
): Promise<StoredCredentials> {
  const { rows: [row] } = await db.query<CredentialsRow>(options.lock ? READ_LOCKED : READ, [connectionId]);
  if (!row) throw new AuthError(`connection ${connectionId} no longer exists`);
  if (row.status !== "active") throw new AuthError(`connection ${connectionId} is ${row.status}: reconnect it`);
  const stored = { ciphertext: row.ciphertext, tokenExpiresAt: row.token_expires_at };
  if (!row.key_id || !row.ciphertext) return { credentials: {}, ...stored };
  return { credentials: JSON.parse(await unseal(keyring, row.key_id, row.ciphertext)), ...stored };
}

/** The provider refused the credentials: the user must reconnect, and the AREAs using it pause (SQL trigger). */
export async function markNeedsReconnect(pool: pg.Pool, connectionId: string, reason: string): Promise<void> {
  await pool.query(
    `update public.user_services set status = 'needs_reconnect', last_error = $2 where id = $1 and status = 'active'`,
    [connectionId, reason.slice(0, 1000)],
  );
}
