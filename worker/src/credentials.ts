// A connection's credentials, decrypted only in the worker's memory for the job that needs them.
import { type Keyring, unseal } from "@area/nodes/crypto";
import { AuthError } from "@area/nodes/errors";
import type pg from "pg";
import { coalesce } from "./coalesce.ts";

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

const READ = `select c.id, c.status, c.token_expires_at, k.key_id, k.ciphertext
  from public.user_services c left join private.user_service_credentials k on k.user_service_id = c.id
  where c.id = any ($1::uuid[])`;
/** The same row, read after taking the connection's refresh lock (held until the transaction ends). */
const READ_LOCKED = `select status, token_expires_at, key_id, ciphertext from private.lock_connection_credentials($1)`;

/** Reads in flight at once (the pool serves the nodes, the bookkeeping and the pollers too). */
const SLOTS = 2;
/** Connections per query at most. */
const MAX_ITEMS = 64;

/** The credentials of an active connection's row; an AuthError when it is gone or not active. */
async function open(
  keyring: Keyring,
  connectionId: string,
  row: CredentialsRow | undefined,
): Promise<StoredCredentials> {
  if (!row) throw new AuthError(`connection ${connectionId} no longer exists`);
  if (row.status !== "active") throw new AuthError(`connection ${connectionId} is ${row.status}: reconnect it`);
  const stored = { ciphertext: row.ciphertext, tokenExpiresAt: row.token_expires_at };
  if (!row.key_id || !row.ciphertext) return { credentials: {}, ...stored };
  return { credentials: JSON.parse(await unseal(keyring, row.key_id, row.ciphertext)), ...stored };
}

/**
 * Reads a connection's credentials (see open()) for a node run. The nodes of executions running side
 * by side start in the same turn, so their reads share one query (coalesce.ts).
 */
export function credentialsReader(
  pool: pg.Pool,
  keyring: Keyring,
): (connectionId: string) => Promise<StoredCredentials> {
  const read = coalesce<string, CredentialsRow | undefined>(async (connectionIds) => {
    const { rows } = await pool.query<CredentialsRow & { id: string }>(READ, [connectionIds]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return connectionIds.map((id) => byId.get(id));
  }, { slots: SLOTS, maxItems: MAX_ITEMS });
  return async (connectionId) => open(keyring, connectionId, await read(connectionId));
}

/** A connection's credentials (see open()), read on a client in a transaction under the connection's refresh lock (refresh.ts). */
export async function loadLockedCredentials(
  client: pg.PoolClient,
  keyring: Keyring,
  connectionId: string,
): Promise<StoredCredentials> {
  const { rows: [row] } = await client.query<CredentialsRow>(READ_LOCKED, [connectionId]);
  return open(keyring, connectionId, row);
}

/** The provider refused the credentials: the user must reconnect, and the AREAs using it pause (SQL trigger). */
export async function markNeedsReconnect(pool: pg.Pool, connectionId: string, reason: string): Promise<void> {
  await pool.query(
    `update public.user_services set status = 'needs_reconnect', last_error = $2 where id = $1 and status = 'active'`,
    [connectionId, reason.slice(0, 1000)],
  );
}
