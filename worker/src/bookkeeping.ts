// What an execution reads and writes in Postgres besides its AREA's definition: the event (hook
// log) with the reactions that already succeeded for it, and the execution's records
// (private.record_executions). Executions running side by side share round trips (coalesce.ts):
// a batch of jobs reads its events in one query and, when its reactions finish together, writes
// its records in one call and one commit.
import { refusedData } from "@area/nodes/errors";
import type pg from "pg";
import type { Enums } from "../../supabase/functions/_shared/database.types.ts";
import { coalesce } from "./coalesce.ts";

export interface StoredEvent {
  areaId: string;
  outputs: Record<string, unknown>;
  receivedAt: Date;
  processed: boolean;
  /** The area reactions that already succeeded for this event (by an earlier attempt). */
  succeeded: string[];
}

/** An execution's outcome ("running" is only ever a row's state while it runs). */
export type Status = Exclude<Enums<"execution_status">, "running">;

/** One reaction's row in execution_logs. */
export interface StepRecord {
  area_reaction_id: string;
  status: Status;
  request_payload: unknown;
  response_payload: unknown;
  error_text: string | null;
  started_at: string;
  finished_at: string;
}

/**
 * One record of private.record_executions, as it takes it: reaction rows, and with an outcome the
 * action row. What is left out is null, and settled true (the event is marked processed).
 */
export interface ExecutionRecord {
  hook_log_id: string;
  attempt: number;
  reactions: StepRecord[];
  outcome?: Status;
  error_text?: string | null;
  started_at?: string;
  /** False when a retry follows: the event stays unprocessed. */
  settled?: boolean;
}

export interface Bookkeeping {
  /** The event, or undefined when it was deleted (with its AREA). */
  loadEvent(hookLogId: string): Promise<StoredEvent | undefined>;
  /** Writes the record; resolves once it is committed. */
  record(record: ExecutionRecord): Promise<void>;
}

/** Round trips in flight at once, per kind (the pool serves the nodes and the pollers too). */
const SLOTS = 2;
/** Events per query or records per call at most: a statement stays small and quick. */
const MAX_ITEMS = 64;

const eventsQuery = `
  select l.id, l.area_id as "areaId", l.event_payload as outputs, l.received_at as "receivedAt", l.processed,
         array(select e.area_reaction_id::text from public.execution_logs e
               where e.hook_log_id = l.id and e.area_reaction_id is not null and e.status = 'success') as succeeded
  from public.hook_logs l where l.id = any ($1::uuid[])`;

export function createBookkeeping(pool: pg.Pool): Bookkeeping {
  const loadEvent = coalesce<string, StoredEvent | undefined>(async (hookLogIds) => {
    const { rows } = await pool.query<StoredEvent & { id: string }>(eventsQuery, [hookLogIds]);
    const byId = new Map(rows.map(({ id, ...event }) => [id, event]));
    return hookLogIds.map((id) => byId.get(id));
  }, { slots: SLOTS, maxItems: MAX_ITEMS });

  const record = coalesce<ExecutionRecord, void>(async (records) => {
    await pool.query("select private.record_executions($1)", [JSON.stringify(records)]);
    return records.map(() => undefined);
  }, { slots: SLOTS, maxItems: MAX_ITEMS, retrySingly: refusedData });

  return { loadEvent, record };
}
