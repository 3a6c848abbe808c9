// area.execute: one event through its AREA. Loads the event and the AREA, checks the condition,
// renders each reaction's params from the action's outputs and runs the reactions in order,
// recording every step (private.record_executions, see bookkeeping.ts) so a retry skips what
// already succeeded.
import { redactSecrets } from "@area/nodes/catalogue";
import { evaluateCondition } from "@area/nodes/condition";
import type { ServiceDefinition } from "@area/nodes/define";
import { AuthError, PermanentError, RetryableError } from "@area/nodes/errors";
import type { Logger } from "@area/nodes/log";
import { findReaction } from "@area/nodes/registry";
import { renderParams } from "@area/nodes/template";
import type { JobResult, JobWithMetadata } from "pg-boss";
import type pg from "pg";
import type { Bookkeeping, Status, StepRecord } from "./bookkeeping.ts";
import type { ContextFactory } from "./context.ts";
import { markNeedsReconnect } from "./credentials.ts";
import { describeError as describe, MAX_ERROR_TEXT } from "./describe.ts";
import type { TriggerCounters } from "./counters.ts";
import type { DefinitionCache, ReactionStep } from "./definitions.ts";
import type { Metrics } from "./metrics.ts";
import { withTokenRefresh } from "./refresh.ts";

export interface ExecuteJob {
  hookLogId: string;
  /** Attempts already spent by earlier jobs of this event (a 429 reschedules into a new job). */
  attemptsBefore?: number;
}

export interface ExecutorDeps {
  pool: pg.Pool;
  bookkeeping: Bookkeeping;
  catalogue: readonly ServiceDefinition[];
  definitions: DefinitionCache;
  counters: TriggerCounters;
  makeContext: ContextFactory;
  /** Sends the event again later (a provider asked to come back at Retry-After). */
  reschedule(job: ExecuteJob, startAfterSeconds: number, groupId: string | null | undefined): Promise<void>;
  metrics: Metrics;
  log: Logger;
}

export function createExecutor(deps: ExecutorDeps) {
  const { pool, log: baseLog } = deps;

  async function runStep(
    step: ReactionStep,
    outputs: Record<string, unknown>,
    idempotencyKey: string,
    signal: AbortSignal,
    log: Logger,
  ) {
    const node = findReaction(deps.catalogue, step.service, step.key);
    if (!node) throw new PermanentError(`reaction ${step.service}/${step.key} is not available in this worker`);
    const parsed = node.params.safeParse(renderParams(step.params, outputs));
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `params.${issue.path.join(".")}: ${issue.message}`);
      throw new PermanentError(`rendered params are invalid: ${issues.join("; ")}`);
    }
    const output = await withTokenRefresh(
      deps.makeContext,
      { service: step.service, connectionId: step.connectionId, log, signal },
      (ctx) => node.run({ ...ctx, idempotencyKey }, parsed.data),
    );
    // The log keeps what was sent, never a secret param (a webhook URL's token, an API key).
    return { request: redactSecrets(node.params, parsed.data), output };
  }

  return async function execute(job: JobWithMetadata<ExecuteJob>): Promise<JobResult> {
    const startedAt = new Date();
    const { hookLogId } = job.data;
    const attempt = (job.data.attemptsBefore ?? 0) + job.retryCount + 1;
    const lastAttempt = attempt > job.retryLimit;
    const event = await deps.bookkeeping.loadEvent(hookLogId);
    const log = baseLog.child({ jobId: job.id, hookLogId, areaId: event?.areaId, attempt });
    if (!event || event.processed) {
      log.info("execution skipped", { reason: event ? "event already processed" : "event deleted with its AREA" });
      return { id: job.id, status: "completed" };
    }
    const area = await deps.definitions.get(event.areaId);
    if (!area) return { id: job.id, status: "completed" };

    let conditionHolds: boolean;
    try {
      conditionHolds = area.condition == null || evaluateCondition(area.condition, event.outputs);
    } catch (error) {
      await deps.bookkeeping.record({
        hook_log_id: hookLogId,
        attempt,
        reactions: [],
        outcome: "failed",
        error_text: `condition: ${describe(error)}`,
        started_at: startedAt.toISOString(),
      });
      log.warn("execution failed", { status: "failed", error: describe(error) });
      return { id: job.id, status: "completed" };
    }
    if (!conditionHolds) {
      await deps.bookkeeping.record({
        hook_log_id: hookLogId,
        attempt,
        reactions: [],
        outcome: "skipped",
        started_at: startedAt.toISOString(),
      });
      log.info("execution skipped", { reason: "condition is false" });
      return { id: job.id, status: "completed" };
    }

    // The action fired: counted once, at the first attempt that gets this far.
    if (attempt === 1) deps.counters.add(event.areaId, event.receivedAt.toISOString());
    const succeeded = new Set(event.succeeded);
    const pending = area.reactions.filter((step) => !succeeded.has(step.id));
    const failures: string[] = [];
    let stopped = false;
    let retry: RetryableError | null = null;
    let exhausted = false;
    let written: StepRecord[] = [];
    for (const [index, step] of pending.entries()) {
      const stepStarted = new Date();
      const stepLog = log.child({ areaReactionId: step.id, reaction: `${step.service}/${step.key}` });
      let row: StepRecord;
      try {
        const { request, output } = await runStep(step, event.outputs, `${hookLogId}:${step.id}`, job.signal, stepLog);
        row = {
          area_reaction_id: step.id,
          status: "success",
          request_payload: request,
          response_payload: output,
          error_text: null,
          started_at: stepStarted.toISOString(),
          finished_at: new Date().toISOString(),
        };
      } catch (error) {
        const text = describe(error);
        stepLog.warn("reaction failed", { error: text, retryable: error instanceof RetryableError });
        row = {
          area_reaction_id: step.id,
          status: "failed",
          request_payload: null,
          response_payload: error instanceof RetryableError || error instanceof PermanentError
            ? { status: error.status ?? null }
            : null,
          error_text: text,
          started_at: stepStarted.toISOString(),
          finished_at: new Date().toISOString(),
        };
        if (error instanceof AuthError && step.connectionId) {
          await markNeedsReconnect(pool, step.connectionId, error.message);
        }
        if (error instanceof RetryableError && !lastAttempt) {
          retry = error;
        } else {
          exhausted ||= error instanceof RetryableError;
          failures.push(text);
          stopped = !step.continueOnError;
        }
      }
      written.push(row);
      // A success is recorded before the next reaction starts: a crash then cannot make it run twice.
      if (index < pending.length - 1 && !retry && !stopped) {
        await deps.bookkeeping.record({ hook_log_id: hookLogId, attempt, reactions: written });
        written = [];
      }
      if (retry || stopped) break;
    }

    if (retry) {
      const retryAfter = retry.retryAfterSeconds;
      await deps.bookkeeping.record({
        hook_log_id: hookLogId,
        attempt,
        reactions: written,
        outcome: "failed",
        error_text: `attempt ${attempt} failed, will retry${retryAfter ? ` in ${retryAfter} s (Retry-After)` : ""}: ${
          describe(retry)
        }`,
        started_at: startedAt.toISOString(),
        settled: false,
      });
      if (retryAfter !== undefined) {
        // Honour Retry-After by scheduling, not sleeping: this job ends, a new one starts then.
        await deps.reschedule({ hookLogId, attemptsBefore: attempt }, retryAfter, job.groupId);
        deps.metrics.executions.inc({ status: "rescheduled" });
        return { id: job.id, status: "completed" };
      }
      deps.metrics.executions.inc({ status: "retry" });
      return { id: job.id, status: "failed", output: { error: describe(retry) } };
    }

    const status: Status = failures.length === 0 ? "success" : stopped ? "failed" : "partial_success";
    // The action row's error_text: the failures of the reactions, one per line, bounded.
    await deps.bookkeeping.record({
      hook_log_id: hookLogId,
      attempt,
      reactions: written,
      outcome: status,
      error_text: failures.length ? failures.join("\n").slice(0, MAX_ERROR_TEXT) : null,
      started_at: startedAt.toISOString(),
    });
    deps.metrics.executions.inc({ status });
    deps.metrics.executionSeconds.observe((Date.now() - startedAt.getTime()) / 1000);
    log.info("execution finished", { status, durationMs: Date.now() - startedAt.getTime() });
    // Retries exhausted on a transient failure: the event goes to the dead letter queue.
    if (exhausted && status === "failed") {
      return { id: job.id, status: "deadletter", output: { error: failures[0] } };
    }
    return { id: job.id, status: "completed" };
  };
}
