// npm run bench: the engine's speed figures, measured side by side on a throwaway stack of its own
// (own directory, free ports, bench nodes on, loopback allowed for the e2e receiver), printed as a
// table next to their targets and written to .local/bench/latest.json. A missed target is reported,
// never fatal (the machine is shared and noisy); the run fails only when something is broken:
// a refused webhook, a lost event, a failed execution.
//
//   npm run bench [-- --only raw,engine,e2e,ingest,schedule] [--events 3000] [--engine-cap 20]
//                 [--engine-users 8] [--raw-jobs 10000] [--e2e-rate 100] [--seconds 10]
//                 [--connections 50] [--hooks 100000] [--explain]
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { root } from "./lib/database.ts";
import { measureE2e } from "./lib/bench/e2e.ts";
import { measureEngine } from "./lib/bench/engine.ts";
import { functionServed } from "./lib/bench/fixtures.ts";
import { measureIngest, prepareIngest } from "./lib/bench/ingest.ts";
import { measureRawPgBoss } from "./lib/bench/raw.ts";
import { measureSchedule } from "./lib/bench/schedule.ts";
import { runningPid, stopService } from "./lib/processes.ts";
import { freePort, type RunningStack, stackPaths, startStack, stopStack } from "./lib/stack.ts";

const steps = ["raw", "engine", "e2e", "ingest", "schedule"] as const;
type Step = (typeof steps)[number];

const { values: args } = parseArgs({
  options: {
    only: { type: "string" },
    events: { type: "string", default: "3000" },
    "raw-jobs": { type: "string", default: "10000" },
    hooks: { type: "string", default: "100000" },
    "engine-cap": { type: "string", default: "20" },
    "engine-users": { type: "string", default: "8" },
    "e2e-rate": { type: "string", default: "100" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    explain: { type: "boolean", default: false },
  },
});
const only = new Set((args.only?.split(",") ?? steps).map((step) => step.trim()));
for (const step of only) {
  if (!steps.includes(step as Step)) throw new Error(`--only: unknown step "${step}" (one of ${steps.join(", ")})`);
}
const wanted = (step: Step) => only.has(step);
const number = (name: Exclude<keyof typeof args, "only" | "explain">) => {
  const value = Number(args[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
};

const say = (line: string) => console.log(`bench   | ${line}`);
const localDir = join(root, ".local", `bench-${process.pid}`);
const outputDir = join(root, ".local", "bench");

let torndown = false;
async function teardown(): Promise<void> {
  if (torndown) return;
  torndown = true;
  await stopStack(localDir).catch((error) => say(`teardown: ${(error as Error).message}`));
  // The services' logs outlive the stack, for a look at what happened during the last run.
  rmSync(join(outputDir, "logs"), { recursive: true, force: true });
  try {
    cpSync(stackPaths(localDir).logs, join(outputDir, "logs"), { recursive: true });
  } catch { /* the stack never started */ }
  rmSync(localDir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void teardown().then(() => process.exit(130)));
}

/** The last lines of a service's log, to show why a step broke. */
function logTail(name: string, lines = 15): string {
  try {
    return readFileSync(join(stackPaths(localDir).logs, `${name}.log`), "utf8").trimEnd().split("\n").slice(-lines)
      .map((line) => `  ${name} | ${line}`).join("\n");
  } catch {
    return `  (no ${name} log)`;
  }
}

/** A process's resident set now (VmRSS) and at its peak so far (VmHWM), in MB. */
function rssMb(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const read = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]) / 1024;
  return { now: read("VmRSS"), peak: read("VmHWM") };
}

interface Figure {
  key: string;
  label: string;
  value: number | null;
  unit: string;
  target?: { op: ">=" | "<="; value: number };
  note?: string;
}

const figures: Figure[] = [];
const details: Record<string, unknown> = {};
const skipped: Record<string, string> = {};

// The worker registers the bench service; the gateway's functions read the same flag. Both get
// this process's environment (scripts/lib/stack.ts).
process.env.AREA_ENABLE_BENCH_NODES = "1";
// The e2e reaction POSTs to a receiver on loopback, which egress refuses unless allowed.
process.env.AREA_ALLOWED_HOSTS = "127.0.0.1";

let stack: RunningStack | undefined;
let pool: pg.Pool | undefined;
let broken: Error | undefined;
const started = Date.now();
try {
  say(`starting a throwaway stack in ${localDir}`);
  mkdirSync(localDir, { recursive: true });
  stack = await startStack({
    localDir,
    ports: { db: await freePort(), gateway: await freePort(), worker: await freePort() },
    throwaway: true,
    // Services log to files: relaying every request line through this process would cost CPU mid-measurement.
    detach: true,
    worker: true,
    // One line per migration says nothing about speed; a failing push throws with its output anyway.
    log: (line) => line.startsWith("db push:") || say(line),
  });
  const env = stack.env;
  pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 });
  // An idle connection lost when the stack goes down (Ctrl-C) must not crash the process.
  pool.on("error", () => {});
  const workerPid = runningPid(stackPaths(localDir).run, "worker");
  if (workerPid === undefined) throw new Error("the worker is not running");
  const webhooksServed = await functionServed(env.FUNCTIONS_URL, "webhooks");
  // The worker's memory after each step, to see which one grows it.
  const workerRss: Record<string, { now: number; peak: number }> = { started: rssMb(workerPid) };
  details.worker_rss_mb_after = workerRss;

  let raw: number | null = null;
  if (wanted("raw")) {
    say("raw pg-boss: inserting and working no-op jobs on a scratch queue");
    const result = await measureRawPgBoss(pool, env.DATABASE_URL, number("raw-jobs"));
    raw = result.perSecond;
    details.raw = result;
    say(`raw pg-boss: ${result.jobs} jobs in ${result.elapsedMs.toFixed(0)} ms`);
    workerRss.raw = rssMb(workerPid);
  }
  figures.push({ key: "raw_pgboss_per_s", label: "pg-boss alone", value: raw, unit: "jobs/s" });

  let engine: number | null = null;
  if (wanted("engine")) {
    say(
      `engine: ingesting events for the bench/noop AREAs of ${
        number("engine-users")
      } users, waiting for every execution`,
    );
    const result = await measureEngine(pool, number("events"), number("engine-cap") * 1000, number("engine-users"));
    engine = result.perSecond;
    details.engine = result;
    say(
      `engine: ${result.processed} of ${result.events} executions in ${result.elapsedMs.toFixed(0)} ms${
        result.capped ? " (stopped at the cap; the rest were dropped)" : ""
      }`,
    );
    workerRss.engine = rssMb(workerPid);
  }
  figures.push({
    key: "engine_exec_per_s",
    label: "engine executions",
    value: engine,
    unit: "exec/s",
    note: (details.engine as { capped?: boolean } | undefined)?.capped ? "capped: not every event ran" : undefined,
  });
  figures.push({
    key: "ratio_engine_vs_raw",
    label: "engine / pg-boss",
    value: engine !== null && raw !== null ? engine / raw : null,
    unit: "",
    target: { op: ">=", value: 0.4 },
  });

  let e2e: Awaited<ReturnType<typeof measureE2e>> | undefined;
  if (wanted("e2e")) {
    if (!webhooksServed) {
      skipped.e2e = "the gateway serves no webhooks function (supabase/functions/webhooks)";
    } else {
      say(`e2e: signed webhooks at ${number("e2e-rate")}/s for ${number("seconds")} s, reaction to a local receiver`);
      e2e = await measureE2e(pool, env.FUNCTIONS_URL, {
        rate: number("e2e-rate"),
        seconds: number("seconds"),
        warmupSeconds: 1,
      });
      details.e2e = e2e;
      const { toStored, storedToStarted, startedToReceiver } = e2e.stages;
      say(
        `e2e: p50/p99 ms: POST → stored ${toStored.p50.toFixed(1)}/${toStored.p99.toFixed(1)}, → execution started ${
          storedToStarted.p50.toFixed(1)
        }/${storedToStarted.p99.toFixed(1)}, → at the receiver ${startedToReceiver.p50.toFixed(1)}/${
          startedToReceiver.p99.toFixed(1)
        }`,
      );
      workerRss.e2e = rssMb(workerPid);
    }
  }
  figures.push({
    key: "e2e_p50_ms",
    label: "webhook → reaction p50",
    value: e2e?.p50Ms ?? null,
    unit: "ms",
    target: { op: "<=", value: 15 },
  });
  figures.push({
    key: "e2e_p99_ms",
    label: "webhook → reaction p99",
    value: e2e?.p99Ms ?? null,
    unit: "ms",
    target: { op: "<=", value: 60 },
  });

  let ingest: Awaited<ReturnType<typeof measureIngest>> | undefined;
  if (wanted("ingest")) {
    if (!webhooksServed) {
      skipped.ingest = "the gateway serves no webhooks function (supabase/functions/webhooks)";
    } else {
      const target = await prepareIngest(pool, env.FUNCTIONS_URL);
      say(`ingest: autocannon, ${number("connections")} connections for ${number("seconds")} s`);
      ingest = await measureIngest(pool, target, { seconds: number("seconds"), connections: number("connections") });
      details.ingest = ingest;
      say(`ingest: ${ingest.accepted} accepted, ${ingest.non2xx} non-2xx, ${ingest.errors} errors`);
      workerRss.ingest = rssMb(workerPid);
      if (ingest.non2xx > 0 || ingest.errors > 0) {
        throw new Error(`ingest: ${ingest.non2xx} non-2xx answers and ${ingest.errors} connection errors`);
      }
    }
  }
  figures.push({
    key: "ingest_per_s",
    label: "webhook intake",
    value: ingest?.perSecond ?? null,
    unit: "req/s",
    target: { op: ">=", value: 3000 },
    note: ingest ? `${ingest.non2xx} non-2xx` : undefined,
  });
  figures.push({
    key: "ingest_p99_ms",
    label: "webhook intake p99",
    value: ingest?.p99Ms ?? null,
    unit: "ms",
    target: { op: "<=", value: 30 },
  });

  // The worker's peak, read before it is stopped for the scheduler measurement.
  const rss = rssMb(workerPid).peak;

  let schedule: Awaited<ReturnType<typeof measureSchedule>> | undefined;
  if (wanted("schedule")) {
    say(`schedule: stopping the worker, then one scheduler tick over ${number("hooks")} due polling hooks`);
    await stopService(stackPaths(localDir).run, "worker");
    schedule = await measureSchedule(pool, { hooks: number("hooks"), intervalSeconds: 300, analyze: args.explain! });
    const { plans, analyzed, ...summary } = schedule;
    details.schedule = summary;
    mkdirSync(outputDir, { recursive: true });
    const planFile = join(outputDir, "schedule_polls.plans.txt");
    writeFileSync(
      planFile,
      `-- private.schedule_polls() over ${summary.hooks} due hooks: plans of its statements taking 1 ms or more\n\n` +
        plans.join("\n\n") + "\n" +
        (analyzed.length
          ? `\n-- the same tick again with EXPLAIN ANALYZE (rolled back), statements of 20 ms or more\n\n${
            analyzed.join("\n\n")
          }\n`
          : ""),
    );
    say(`schedule: plans in ${planFile}`);
  }
  figures.push({
    key: "schedule_100k_ms",
    label: `schedule_polls() over ${Number(args.hooks).toLocaleString("en")} hooks`,
    value: schedule?.dbMs ?? null,
    unit: "ms",
    target: { op: "<=", value: 2000 },
    note: schedule
      ? `${schedule.enqueued} jobs, all due: ${schedule.usedDueIndex ? "hook_jobs_due index" : "table scan"}; ` +
        `next tick, none due: ${schedule.nextTick.dbMs.toFixed(1)} ms, ` +
        `${schedule.nextTick.usedDueIndex ? "" : "no "}hook_jobs_due index`
      : undefined,
  });
  figures.push({
    key: "worker_rss_mb",
    label: "worker peak RSS",
    value: rss,
    unit: "MB",
    target: { op: "<=", value: 150 },
  });
} catch (error) {
  broken = error as Error;
  say(`broken: ${broken.message}`);
  console.log(logTail("worker"));
  console.log(logTail("gateway"));
} finally {
  await pool?.end().catch(() => {});
  await teardown();
}

if (figures.length > 0) printTable();
for (const [step, reason] of Object.entries(skipped)) say(`${step}: not measured: ${reason}`);
if (!broken) writeResults();
say(`${broken ? "failed" : "done"} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(broken ? 1 : 0);

function format(value: number | null, unit: string): string {
  if (value === null) return "—";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 0.1 ? 2 : 4;
  return `${value.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: Math.min(digits, 2) })}${
    unit ? ` ${unit}` : ""
  }`;
}

function printTable(): void {
  const rows = figures.map((figure) => {
    const met = figure.value === null || !figure.target
      ? ""
      : (figure.target.op === ">=" ? figure.value >= figure.target.value : figure.value <= figure.target.value)
      ? "✓"
      : "✗";
    return [
      figure.key,
      format(figure.value, figure.unit),
      figure.target ? `${figure.target.op === ">=" ? "≥" : "≤"} ${format(figure.target.value, figure.unit)}` : "",
      met,
      figure.note ?? "",
    ];
  });
  const header = ["figure", "measured", "target", "", "notes"];
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join("  ").trimEnd();
  console.log("");
  console.log(line(header));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  for (const row of rows) console.log(line(row));
  console.log("");
}

function writeResults(): void {
  const result: Record<string, unknown> = { measured_at: new Date().toISOString() };
  for (const figure of figures) result[figure.key] = figure.value;
  result.skipped = skipped;
  result.details = details;
  mkdirSync(outputDir, { recursive: true });
  const file = join(outputDir, "latest.json");
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  say(`results in ${file}`);
}
