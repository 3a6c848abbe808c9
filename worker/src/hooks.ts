// What the hook handlers (poll, subscribe, unsubscribe) read about a hook job, and how they
// record its failures.
import type { Keyring } from "@area/nodes/crypto";
import { unseal } from "@area/nodes/crypto";
import type pg from "pg";
import type { Enums } from "../../supabase/functions/_shared/database.types.ts";

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
  secret: { keyId: string | null; value: string } | null;
}

export async function loadHook(pool: pg.Pool, hookJobId: string): Promise<HookJob | null> {
  const { rows: [hook] } = await pool.query<HookJob>(
    `select h.id, h.area_id as "areaId", h.status, s.key as service, sa.key as action,
            h.user_service_id as "connectionId",
            coalesce((select jsonb_object_agg(p.name, v.value)
                      from public.area_action_param_values v join public.service_action_params p on p.id = v.param_id
                      where v.area_action_id = h.area_action_id), '{}') as params,
            st.state_value as cursor, st.hook_job_id is not null as "hasCursor",
            h.webhook_endpoint as "webhookEndpoint", h.subscription_state as "subscriptionState",
            h.provider_subscription_id as "subscriptionId",
            case when k.secret is not null then jsonb_build_object('keyId', k.key_id, 'value', k.secret) end as secret
     from public.hook_jobs h
     join public.service_actions sa on sa.id = h.service_action_id
     join public.services s on s.id = sa.service_id
     left join public.hook_states st on st.hook_job_id = h.id and st.area_id = h.area_id and st.state_key = 'cursor'
     left join private.hook_job_secrets k on k.hook_job_id = h.id
     where h.id = $1`,
    [hookJobId],
  );
  return hook ?? null;
}

/** The hook's webhook secret in clear (sealed by the worker, or not yet sealed just after creation). */
export function hookSecret(keyring: Keyring, hook: HookJob): Promise<string> {
  if (!hook.secret) throw new Error(`hook ${hook.id} has no webhook secret`);
  return hook.secret.keyId ? unseal(keyring, hook.secret.keyId, hook.secret.value) : Promise.resolve(hook.secret.value);
}

/** Consecutive failures this many times put the hook in status error (the scheduler then skips it). */
export const MAX_CONSECUTIVE_HOOK_ERRORS = 10;

export async function recordHookFailure(pool: pg.Pool, hookJobId: string, error: string): Promise<void> {
  await pool.query(
    `update public.hook_jobs
     set error_count = error_count + 1, last_error = $2,
         status = case when error_count + 1 >= $3 and status = 'active' then 'error' else status end
     where id = $1`,
    [hookJobId, error.slice(0, 2_000), MAX_CONSECUTIVE_HOOK_ERRORS],
  );
}
