// The webhooks function's database access, as the service role (SUPABASE_DB_URL): the hook job
// with what it takes to verify a delivery and turn it into events (app.ts keeps it in memory for
// a few seconds, so a burst of deliveries costs no lookup), and the statement that stores events.
import type { WebhookTrigger } from "../../../packages/nodes/src/define.ts";
import { openStoredSecret } from "../../../packages/nodes/src/crypto.ts";
import { findAction } from "../../../packages/nodes/src/registry.ts";
import { database, sql } from "../_shared/db.ts";
import { credentialKeyring, declarations } from "../_shared/env.ts";
import type { Enums } from "../_shared/database.types.ts";
import type { IngestResult, StoreBatch } from "./batcher.ts";

export interface Hook {
  id: string;
  /** The service key, which must match the URL's `:service`. */
  service: string;
  action: string;
  type: Enums<"hook_type">;
  /** The signing secret in clear; null when the hook has none (never for a webhook hook). */
  secret: string | null;
  /** The action's params, parsed by its schema (defaults applied), as the worker's poller does. */
  params: Record<string, unknown>;
  /** The action's webhook trigger in this runtime's catalogue, or null when it has none here. */
  trigger: WebhookTrigger | null;
}

interface HookRow {
  id: string;
  type: Enums<"hook_type">;
  service: string;
  action: string;
  secret_key_id: string | null;
  secret: string | null;
  params: Record<string, unknown>;
}

async function clearSecret(row: HookRow): Promise<string | null> {
  if (row.secret === null) return null;
  return openStoredSecret(await credentialKeyring(), row.secret_key_id, row.secret);
}

/** The provider revoked the hook's subscription: it is marked and its AREA paused (see the migration). */
export async function recordRevocation(hookJobId: string, reason: string): Promise<void> {
  await database(sql`select private.record_hook_revocation(${hookJobId}::uuid, ${reason})`, 5_000);
}

/** Reads one hook job (null when there is none). Status is left out: ingest_events decides on it, never a cache. */
export async function loadHook(id: string): Promise<Hook | null> {
  const [row] = await database(
    sql<HookRow[]>`
      select id, type, service, action, secret_key_id, secret, params
      from private.hook_job_details where id = ${id}::uuid`,
    5_000,
  );
  if (!row) return null;
  const action = findAction(declarations, row.service, row.action);
  return {
    id: row.id,
    service: row.service,
    action: row.action,
    type: row.type,
    secret: await clearSecret(row),
    params: action ? action.params.parse(row.params) as Record<string, unknown> : row.params,
    trigger: action?.trigger.webhook ?? null,
  };
}

/**
 * Every event of every delivery in one call of private.ingest_events (one statement, one
 * transaction): set-based, so a batch pays one insert into hook_logs and one into pg-boss's jobs.
 * The JSON goes as text (`::text::jsonb`): typed jsonb, postgres.js would encode the string again.
 */
export const storeBatch: StoreBatch = async (batch) => {
  const parts: string[] = [];
  for (const delivery of batch) {
    delivery.dedupeKeys.forEach((key, i) => {
      parts.push(
        `{"hook_job_id":"${delivery.hookJobId}","dedupe_key":${JSON.stringify(key)},"payload":${delivery.outputs[i]}}`,
      );
    });
  }
  const rows = await sql<{ result: IngestResult }[]>`
    select result from private.ingest_events(${`[${parts.join(",")}]`}::text::jsonb) order by event_number`;
  if (rows.length !== parts.length || rows.some((row) => !row.result?.status)) {
    throw new Error(`ingest_events answered ${rows.length} rows for ${parts.length} events`);
  }
  const results: IngestResult[][] = [];
  let next = 0;
  for (const delivery of batch) {
    results.push(rows.slice(next, next + delivery.dedupeKeys.length).map((row) => row.result));
    next += delivery.dedupeKeys.length;
  }
  return results;
};
