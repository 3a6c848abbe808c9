// Database access for functions. One pool per isolate, on SUPABASE_DB_URL, with prepared
// statements off so it also works through Supabase's transaction pooler.
import postgres from "postgres";

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
