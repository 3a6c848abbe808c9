// Prometheus metrics of one worker process, served on /metrics by the health server.
import type pg from "pg";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  jobs: Counter<"queue" | "outcome">;
  executions: Counter<"status">;
  executionSeconds: Histogram;
}

export function createMetrics(pool: pg.Pool): Metrics {
  const registry = new Registry();
  const jobs = new Counter({
    name: "area_jobs_total",
    help: "Jobs handled by this worker, by queue and outcome (completed, failed, deadletter).",
    labelNames: ["queue", "outcome"] as const,
    registers: [registry],
  });
  const executions = new Counter({
    name: "area_executions_total",
    help:
      "Executions finished by this worker, by status (success, failed, skipped, partial_success, retry, rescheduled), and deferred (not started: the user's executions were at their cap).",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const executionSeconds = new Histogram({
    name: "area_execution_duration_seconds",
    help: "Time to run one event through its AREA, from job start to the recorded outcome.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: "area_queue_jobs",
    help:
      "Jobs in each pg-boss queue (all workers): deferred, queued (ready), active, failed; pg-boss's cached counts.",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const { rows } = await pool.query<Record<"name" | "deferred" | "queued" | "active" | "failed", string>>(
        `select name, deferred_count as deferred, ready_count as queued, active_count as active, failed_count as failed
         from pgboss.queue`,
      );
      for (const row of rows) {
        for (const state of ["deferred", "queued", "active", "failed"] as const) {
          this.set({ queue: row.name, state }, Number(row[state]));
        }
      }
    },
  });
  return { registry, jobs, executions, executionSeconds };
}
