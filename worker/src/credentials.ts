// A connection's credentials, decrypted only in the worker's memory for the job that needs them.
import { type Keyring, unseal } from "@area/nodes/crypto";
import { AuthError } from "@area/nodes/errors";
import type pg from "pg";

export async function loadCredentials(
  pool: pg.Pool,
  keyring: Keyring,
  connectionId: string | null,
): Promise<Record<string, unknown> | null> {
  if (!connectionId) return null;
  const { rows: [row] } = await pool.query<{ status: string; key_id: string | null; ciphertext: string | null }>(
    `select c.status, k.key_id, k.ciphertext
     from public.user_services c left join private.user_service_credentials k on k.user_service_id = c.id
     where c.id = $1`,
    [connectionId],
  );
  if (!row) throw new AuthError(`connection ${connectionId} no longer exists`);
  if (row.status !== "active") throw new AuthError(`connection ${connectionId} is ${row.status}: reconnect it`);
  if (!row.key_id || !row.ciphertext) return {};
  return JSON.parse(await unseal(keyring, row.key_id, row.ciphertext));
}

/** The provider refused the credentials: the user must reconnect, and the AREAs using it pause (SQL trigger). */
export async function markNeedsReconnect(pool: pg.Pool, connectionId: string, reason: string): Promise<void> {
  await pool.query(
    `update public.user_services set status = 'needs_reconnect', last_error = $2 where id = $1 and status = 'active'`,
    [connectionId, reason.slice(0, 1000)],
  );
}
