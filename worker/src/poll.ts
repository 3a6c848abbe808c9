// hook.poll: runs the action's poll() for one scheduled slot and hands its events and cursor to
// private.record_poll(), which stores the events before the cursor (the first poll after enabling
// only sets the baseline).
import type { ServiceDefinition } from "@area/nodes/define";
import type { Logger } from "@area/nodes/log";
import { findAction } from "@area/nodes/registry";
import type { Job, JobResult } from "pg-boss";
import type pg from "pg";
import type { ContextFactory } from "./context.ts";
import { loadHook, settleHookFailure } from "./hooks.ts";
import { withTokenRefresh } from "./refresh.ts";

export interface PollJob {
  hookJobId: string;
  scheduledAt: string;
}

export interface PollerDeps {
  pool: pg.Pool;
  catalogue: readonly ServiceDefinition[];
  makeContext: ContextFactory;
  log: Logger;
}

/**
 * JSON text Postgres can store as jsonb: NUL characters dropped from strings. A provider's data can hold
 * one (a mail's encoded subject), and jsonb refuses `\u0000`: the poll would fail at every slot.
 */
const jsonbText = (value: unknown) =>
  JSON.stringify(value, (_key, item) => typeof item === "string" ? item.replaceAll("\0", "") : item);

export function createPoller(deps: PollerDeps) {
  return async function poll(job: Job<PollJob>): Promise<JobResult> {
    const { hookJobId, scheduledAt } = job.data;
    const log = deps.log.child({ jobId: job.id, hookJobId, scheduledAt });
    const hook = await loadHook(deps.pool, hookJobId);
    if (!hook || hook.status !== "active") {
      log.debug("poll skipped", { reason: hook ? `hook is ${hook.status}` : "hook deleted" });
      return { id: job.id, status: "completed" };
    }
    const areaLog = log.child({ areaId: hook.areaId, action: `${hook.service}/${hook.action}` });
    try {
      const action = findAction(deps.catalogue, hook.service, hook.action);
      const polling = action?.trigger.polling;
      if (!action || !polling) throw new Error(`action ${hook.service}/${hook.action} cannot be polled by this worker`);
      const params = action.params.parse(hook.params) as Record<string, unknown>;
      const result = await withTokenRefresh(
        deps.makeContext,
        { service: hook.service, connectionId: hook.connectionId, log: areaLog, signal: job.signal },
        (ctx) =>
          polling.poll(
            { ...ctx, hookJobId, scheduledAt: new Date(scheduledAt) },
            params,
            hook.hasCursor ? hook.cursor : undefined,
          ),
      );
      const { rows: [{ record_poll: outcome }] } = await deps.pool.query(
        "select private.record_poll($1, $2, $3)",
        [hookJobId, jsonbText(result.events), result.cursor === undefined ? null : jsonbText(result.cursor)],
      );
      areaLog.info("polled", { ...outcome, events: result.events.length });
      return { id: job.id, status: "completed" };
    } catch (error) {
      return settleHookFailure(deps.pool, areaLog, {
        jobId: job.id,
        hookJobId,
        connectionId: hook.connectionId,
        error,
        message: "poll failed",
      });
    }
  };
}
