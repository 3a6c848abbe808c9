// AREA run counters (areas.triggered_count, last_triggered_at), added up in memory and written
// once a second in one statement: bumping the AREA's row after every execution would make all
// executions of a busy AREA wait on that one row lock.
import type { Logger } from "@area/nodes/log";
import type pg from "pg";

export class TriggerCounters {
  readonly #pool: pg.Pool;
  readonly #log: Logger;
  #pending = new Map<string, { count: number; lastAt: string }>();

  constructor(pool: pg.Pool, log: Logger) {
    this.#pool = pool;
    this.#log = log;
  }

  /** One more firing of the AREA's action, received at `receivedAt`. */
  add(areaId: string, receivedAt: string): void {
    this.#merge(areaId, 1, receivedAt);
  }

  #merge(areaId: string, count: number, lastAt: string): void {
    const entry = this.#pending.get(areaId);
    if (!entry) this.#pending.set(areaId, { count, lastAt });
    else {
      entry.count += count;
      if (lastAt > entry.lastAt) entry.lastAt = lastAt;
    }
  }

  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await this.#pool.query(
        `update public.areas a
         set triggered_count = a.triggered_count + c.count,
             last_triggered_at = greatest(a.last_triggered_at, c.last_at)
         from jsonb_to_recordset($1) as c(area_id uuid, count bigint, last_at timestamptz)
         where a.id = c.area_id`,
        [JSON.stringify([...batch].map(([area_id, { count, lastAt }]) => ({ area_id, count, last_at: lastAt })))],
      );
    } catch (error) {
      // Kept for the next flush: the database may be restarting.
      for (const [areaId, { count, lastAt }] of batch) this.#merge(areaId, count, lastAt);
      this.#log.warn("counters not written yet", { areas: batch.size, error: (error as Error).message });
    }
  }
}
