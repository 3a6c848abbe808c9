// The worker process as deployed: health endpoints against the real database, readiness
// following the database, clean exit on SIGTERM, and a clear error on bad settings.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { test } from "node:test";
import { nodeFlags, run, waitForHttp } from "../../scripts/lib/processes.ts";
import { freePort } from "../../scripts/lib/stack.ts";

const main = join(import.meta.dirname, "..", "src", "main.ts");

function startWorker(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, main], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function get(url: string) {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

test("healthz and readyz answer 200 with the database up; SIGTERM exits 0", async () => {
  const port = await freePort();
  const worker = startWorker({
    DATABASE_URL: process.env.DATABASE_URL!,
    AREA_ENCRYPTION_KEY: process.env.AREA_ENCRYPTION_KEY!,
    AREA_WORKER_PORT: String(port),
  });
  let output = "";
  worker.stdout!.on("data", (chunk) => (output += chunk));
  await waitForHttp(`http://127.0.0.1:${port}/readyz`, { name: "worker", child: worker });
  assert.deepEqual(await get(`http://127.0.0.1:${port}/healthz`), { status: 200, body: { status: "ok" } });
  assert.deepEqual(await get(`http://127.0.0.1:${port}/readyz`), { status: 200, body: { status: "ready" } });
  assert.equal((await get(`http://127.0.0.1:${port}/nope`)).status, 404);
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain/);
  const exposition = await metrics.text();
  assert.match(exposition, /# TYPE area_jobs_total counter/);
  assert.match(exposition, /# TYPE area_execution_duration_seconds histogram/);
  assert.match(exposition, /area_queue_jobs\{queue="area\.execute",state="queued"\} \d+/);

  worker.kill("SIGTERM");
  const [code] = await once(worker, "exit");
  assert.equal(code, 0);
  const lines = output.trim().split("\n").map((line) => JSON.parse(line));
  assert.equal(lines[0].msg, "worker starting");
  assert.equal(lines[0].component, "worker");
  const synced = lines.find((line) => line.msg === "catalogue synced");
  assert.equal(synced?.changed, 0, "the seeded catalogue is already what the worker declares");
  assert.equal(lines.at(-1).msg, "stopped");
});

test("with the database unreachable the worker stays up (healthz 200, readyz 503) and waits for it", async () => {
  const port = await freePort();
  const worker = startWorker({
    DATABASE_URL: `postgresql://postgres:postgres@127.0.0.1:${await freePort()}/postgres`,
    AREA_ENCRYPTION_KEY: process.env.AREA_ENCRYPTION_KEY!,
    AREA_WORKER_PORT: String(port),
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, { name: "worker", child: worker });
    const ready = await get(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(ready.body.status, "not ready");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(worker.exitCode, null, "still running while pg-boss retries its start");
  } finally {
    worker.kill("SIGTERM");
    await once(worker, "exit");
  }
});

test("a missing DATABASE_URL or key, or a bad port, stops the worker with a message naming the setting", async () => {
  const noUrl = await run(process.execPath, [...nodeFlags, main], {
    env: { PATH: process.env.PATH },
    allowFailure: true,
  });
  assert.notEqual(noUrl.code, 0);
  assert.match(noUrl.stderr, /DATABASE_URL is required/);

  const badPort = await run(process.execPath, [...nodeFlags, main], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: process.env.DATABASE_URL,
      AREA_ENCRYPTION_KEY: process.env.AREA_ENCRYPTION_KEY,
      AREA_WORKER_PORT: "http",
    },
    allowFailure: true,
  });
  assert.notEqual(badPort.code, 0);
  assert.match(badPort.stderr, /AREA_WORKER_PORT must be an integer from 0 to 65535, got "http"/);

  const noKey = await run(process.execPath, [...nodeFlags, main], {
    env: { PATH: process.env.PATH, DATABASE_URL: process.env.DATABASE_URL },
    allowFailure: true,
  });
  assert.notEqual(noKey.code, 0);
  assert.match(noKey.stderr, /AREA_ENCRYPTION_KEY is required/);
});
