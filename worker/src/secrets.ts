// Seals webhook secrets that create_area() generated in SQL (the database never holds the
// encryption key, so it stores them as issued, key_id null, until the worker seals them).
import { type Keyring, seal } from "@area/nodes/crypto";
import type { Logger } from "@area/nodes/log";
import type pg from "pg";

export async function sealPendingSecrets(pool: pg.Pool, keyring: Keyring, log: Logger): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const { rows } = await client.query<{ hook_job_id: string; secret: string }>(
      `select hook_job_id, secret from private.hook_job_secrets where key_id is null
       order by created_at limit 500 for update skip locked`,
    );
    for (const row of rows) {
      const sealed = await seal(keyring, row.secret);
      await client.query("update private.hook_job_secrets set key_id = $1, secret = $2 where hook_job_id = $3", [
        sealed.keyId,
        sealed.ciphertext,
        row.hook_job_id,
      ]);
    }
    await client.query("commit");
    if (rows.length > 0) log.info("webhook secrets sealed", { count: rows.length, keyId: keyring.currentKeyId });
    return rows.length;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
