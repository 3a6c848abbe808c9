// hook.subscribe / hook.unsubscribe: registers a webhook at its provider (a repository hook, an
// EventSub subscription) or removes it. Jobs carry a snapshot, so a stale job is recognised: a
// subscribe for a hook no longer waiting for one does nothing, and a subscription made while the
// AREA was being disabled or deleted is removed again at once.
import type { Keyring } from "@area/nodes/crypto";
import type { ServiceDefinition } from "@area/nodes/define";
import type { Logger } from "@area/nodes/log";
import { findAction } from "@area/nodes/registry";
import type { Job, JobResult } from "pg-boss";
import type pg from "pg";
import type { ContextFactory } from "./context.ts";
import { hookSecret, loadHook, settleHookFailure } from "./hooks.ts";

export interface RegistrationJob {
  hookJobId: string;
  service: string;
  action: string;
  connectionId: string | null;
  subscriptionId: string | null;
}

export interface RegistrationDeps {
  pool: pg.Pool;
  keyring: Keyring;
  catalogue: readonly ServiceDefinition[];
  makeContext: ContextFactory;
  publicUrl: string | undefined;
  log: Logger;
}

export function createRegistrar(deps: RegistrationDeps) {
  const { pool } = deps;

  async function nodeContext(job: Job<RegistrationJob>, log: Logger) {
    const { service, action, connectionId } = job.data;
    const webhook = findAction(deps.catalogue, service, action)?.trigger.webhook;
    if (!webhook) throw new Error(`action ${service}/${action} is not served by this worker`);
    return { webhook, ctx: await deps.makeContext({ service, connectionId, log, signal: job.signal }) };
  }

  const settle = (job: Job<RegistrationJob>, log: Logger, error: unknown) =>
    settleHookFailure(pool, log, {
      jobId: job.id,
      hookJobId: job.data.hookJobId,
      connectionId: job.data.connectionId,
      error,
      message: `${job.name} failed`,
      prefix: job.name,
    });

  async function subscribe(job: Job<RegistrationJob>): Promise<JobResult> {
    const log = deps.log.child({ jobId: job.id, hookJobId: job.data.hookJobId });
    const hook = await loadHook(pool, job.data.hookJobId);
    if (!hook || hook.subscriptionState !== "subscribe_requested") {
      log.info("subscribe skipped", { reason: hook ? `hook is ${hook.subscriptionState}` : "hook deleted" });
      return { id: job.id, status: "completed" };
    }
    try {
      if (!deps.publicUrl) throw new Error("AREA_PUBLIC_URL (or SUPABASE_URL) is not set: providers need a public URL");
      const { webhook, ctx } = await nodeContext(job, log);
      if (!webhook.subscribe) throw new Error(`${job.data.service}/${job.data.action} declares no subscribe()`);
      const registration = {
        params: hook.params,
        endpoint: new URL(hook.webhookEndpoint!, deps.publicUrl).href,
        secret: await hookSecret(deps.keyring, hook),
      };
      const { subscriptionId } = await webhook.subscribe(ctx, registration);
      const { rowCount } = await pool.query(
        `update public.hook_jobs set subscription_state = 'subscribed', provider_subscription_id = $2,
                error_count = 0, last_error = null
         where id = $1 and subscription_state = 'subscribe_requested'`,
        [hook.id, subscriptionId],
      );
      if (rowCount === 0 && webhook.unsubscribe) {
        // Disabled or deleted while we were registering: do not leave the provider calling us.
        await webhook.unsubscribe(ctx, { ...registration, subscriptionId });
      }
      log.info("subscribed", { subscriptionId, kept: rowCount === 1 });
      return { id: job.id, status: "completed" };
    } catch (error) {
      return settle(job, log, error);
    }
  }

  async function unsubscribe(job: Job<RegistrationJob>): Promise<JobResult> {
    const log = deps.log.child({ jobId: job.id, hookJobId: job.data.hookJobId });
    const { subscriptionId } = job.data;
    if (!subscriptionId) {
      // Never registered (the subscribe had not run): marking it is all there is to do.
      await pool.query(
        `update public.hook_jobs set subscription_state = 'unsubscribed'
         where id = $1 and subscription_state = 'unsubscribe_requested'`,
        [job.data.hookJobId],
      );
      return { id: job.id, status: "completed" };
    }
    try {
      const { webhook, ctx } = await nodeContext(job, log);
      if (!webhook.unsubscribe) throw new Error(`${job.data.service}/${job.data.action} declares no unsubscribe()`);
      const hook = await loadHook(pool, job.data.hookJobId);
      await webhook.unsubscribe(ctx, {
        params: hook?.params ?? {},
        endpoint: hook?.webhookEndpoint ?? "",
        secret: "",
        subscriptionId,
      });
      await pool.query(
        `update public.hook_jobs set subscription_state = 'unsubscribed', provider_subscription_id = null
         where id = $1 and provider_subscription_id = $2 and subscription_state = 'unsubscribe_requested'`,
        [job.data.hookJobId, subscriptionId],
      );
      log.info("unsubscribed", { subscriptionId });
      return { id: job.id, status: "completed" };
    } catch (error) {
      return settle(job, log, error);
    }
  }

  return { subscribe, unsubscribe };
}
