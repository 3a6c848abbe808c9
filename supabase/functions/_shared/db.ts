// Database access for functions. One pool per isolate, on SUPABASE_DB_URL, with prepared
// statements off so it also works through Supabase's transaction pooler.
import postgres, { type Fragment, type TransactionSql } from "postgres";

export const sql = postgres(Deno.env.get("SUPABASE_DB_URL") ?? "", {
  prepare: false,
  max: 5,
  connect_timeout: 5,
  idle_timeout: 30,
  onnotice: () => {},
});

/** True when the database answers a trivial query within `timeoutMs`. */
export async function databaseReachable(timeoutMs = 2_000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([sql`select 1`.then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export type Transaction = TransactionSql;
/** A piece of SQL built with tx`…` to splice into another query. */
export type { Fragment };

/**
 * Runs `work` in a transaction as the caller, exactly as PostgREST does for supabase-js: role
 * `authenticated` and the verified claims for this transaction only. RLS, the grants and the
 * SQL functions' own checks then decide everything, for this API and supabase-js alike.
 */
export function asCaller<T>(claims: Record<string, unknown>, work: (tx: Transaction) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true),
                    set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
    return await work(tx);
  }) as Promise<T>;
}
