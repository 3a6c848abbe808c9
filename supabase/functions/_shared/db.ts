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

/** The database could not answer: the caller should be told to retry (503), never that all is well. */
export class DatabaseUnavailable extends Error {}

/** `query`'s result, or DatabaseUnavailable when it fails or takes longer than `ms`. */
export async function database<T>(query: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([query, timeout]);
  } catch (error) {
    throw new DatabaseUnavailable((error as Error).message, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** True when the database answers a trivial query within `timeoutMs`. */
export function databaseReachable(timeoutMs = 2_000): Promise<boolean> {
  return database(sql`select 1`, timeoutMs).then(() => true, () => false);
}

export type Transaction = TransactionSql;
/** A piece of SQL built with tx`…` to splice into another query. */
export type { Fragment };

/** Runs `work` in a transaction under `role` with `claims`, as PostgREST sets them per request. */
function asRole<T>(role: string, claims: Record<string, unknown>, work: (tx: Transaction) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select set_config('role', ${role}, true),
                    set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
    return await work(tx);
  }) as Promise<T>;
}

/**
 * Runs `work` as the caller, exactly as PostgREST does for supabase-js: role `authenticated` and
 * the verified claims for this transaction only. RLS, the grants and the SQL functions' own checks
 * then decide everything, for this API and supabase-js alike.
 */
export const asCaller = <T>(claims: Record<string, unknown>, work: (tx: Transaction) => Promise<T>) =>
  asRole("authenticated", claims, work);

/** Runs `work` as the service role: the only role allowed to store credentials (SECURITY DEFINER functions). */
export const asService = <T>(work: (tx: Transaction) => Promise<T>) =>
  asRole("service_role", { role: "service_role" }, work);
