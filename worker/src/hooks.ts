// What the hook handlers (poll, subscribe, unsubscribe) read about a hook job, and how they
// record its failures.
import { type Keyring, openStoredSecret } from "@area/nodes/crypto";
import { AuthError, RetryableError } from "@area/nodes/errors";
import type { Logger } from "@area/nodes/log";
import type { JobResult } from "pg-boss";
import type pg from "pg";
import type { Enums } from "../../supabase/functions/_shared/database.types.ts";
import { markNeedsReconnect } from "./credentials.ts";
import { describeError, MAX_ERROR_TEXT } from "./describe.ts";

export interface HookJob {
  id: string;
  areaId: string;
  status: Enums<"hook_status">;
  service: string;
  action: string;
  connectionId: string | null;
  params: Record<string, unknown>;
  cursor: unknown;
  /** Whether a cursor row exists: without one, the next poll is the baseline. */
  hasCursor: boolean;
  webhookEndpoint: string | null;
  subscriptionState: Enums<"hook_subscription_state">;
  subscriptionId: string | null;
  secretKeyId: string | null;
  secret: string | null;
}

export async function loadHook(pool: pg.Pool, hookJobId: string): Promise<HookJob | null> {
  const { rows: [hook] } = await pool.query<HookJob>(
    `select h.id, h.area_id as "areaId", h.status, h.service, h.action, h.connection_id as "connectionId", h.params,
            st.state_value as cursor, st.hook_job_id is not null as "hasCursor",
            h.webhook_endpoint as "webhookEndpoint", h.subscription_state as "subscriptionState",
            h.provider_subscription_id as "subscriptionId", h.secret_key_id as "secretKeyId", h.secret
     from private.hook_job_details h
     left join public.hook_states st on st.hook_job_id = h.id and st.area_id = h.area_id and st.state_key = 'cursor'
     where h.id = $1`,
    [hookJobId],
  );
  return hook ?? null;
}

/** The hook's webhook secret in clear. */
export function hookSecret(keyring: Keyring, hook: HookJob): Promise<string> {
  if (hook.secret === null) throw new Error(`hook ${hook.id} has no webhook secret`);
  return openStoredSecret(keyring, hook.secretKeyId, hook.secret);
}

/** Consecutive failures this many times put the hook in status error (the scheduler then skips it). */
export const MAX_CONSECUTIVE_HOOK_ERRORS = 10;

/**
 * Records a failed poll or registration on the hook (error_count, last_error; status error after
 * too many in a row); refused credentials also mark the connection needs_reconnect.
 */
export async function recordHookFailure(
  pool: pg.Pool,
  hookJobId: string,
  connectionId: string | null,
  error: unknown,
  text: string,
): Promise<void> {
  await pool.query(
    `update public.hook_jobs
     set error_count = error_count + 1, last_error = $2,
         status = case when error_count + 1 >= $3 and status = 'active' then 'error' else status end
     where id = $1`,
    [hookJobId, text.slice(0, MAX_ERROR_TEXT), MAX_CONSECUTIVE_HOOK_ERRORS],
  );
  if (error instanceof AuthError && connectionId) await markNeedsReconnect(pool, connectionId, text);
}

export interface HookFailure {
  jobId: string;
  hookJobId: string;
  connectionId: string | null;
  error: unknown;
  /** The log line ("poll failed"). */
  message: string;
  /** What last_error starts with ("<prefix>: <error>"); nothing by default. */
  prefix?: string;
}

/**
 * The end of a failed poll or registration job: logged, recorded on the hook (recordHookFailure),
 * and the job's result. Only a transient failure is worth retrying the job; any other is final
 * (a polling hook's next slot polls again anyway).
 */
export async function settleHookFailure(pool: pg.Pool, log: Logger, failure: HookFailure): Promise<JobResult> {
  const { error } = failure;
  const text = describeError(error);
  log.warn(failure.message, { error: text, retryable: error instanceof RetryableError });
  const lastError = failure.prefix === undefined ? text : `${failure.prefix}: ${text}`;
  await recordHookFailure(pool, failure.hookJobId, failure.connectionId, error, lastError);
  return {
    id: failure.jobId,
    status: error instanceof RetryableError ? "failed" : "completed",
    output: { error: text },
  };
}
