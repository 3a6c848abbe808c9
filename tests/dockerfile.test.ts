// worker/Dockerfile cannot be built here (no Docker engine), so its promises are checked as text:
// the base image, a non-root user, a health check on the worker's /healthz, and the same entry
// point as `npm run worker`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { root } from "../scripts/lib/database.ts";

const dockerfile = readFileSync(join(root, "worker/Dockerfile"), "utf8");
const instructions = dockerfile.replace(/\\\n/g, " ").split("\n").filter((line) => /^[A-Z]+ /.test(line));
const instruction = (name: string) =>
  instructions.filter((line) => line.startsWith(`${name} `)).map((line) => line.slice(name.length + 1).trim());

test("the image runs node:24-slim as a non-root user with production dependencies only", () => {
  assert.deepEqual(instruction("FROM"), ["node:24-slim"]);
  assert.deepEqual(instruction("USER"), ["node"]);
  assert.match(instruction("RUN").join(" "), /npm install --omit=dev/);
});

test("its CMD is the worker's start script, the entry point `npm run worker` runs", () => {
  const cmd = JSON.parse(instruction("CMD")[0]) as string[];
  const workerPackage = JSON.parse(readFileSync(join(root, "worker/package.json"), "utf8"));
  assert.deepEqual(cmd, workerPackage.scripts.start.split(" "));
  assert.deepEqual(instruction("WORKDIR").at(-1), "/app/worker", "the CMD's src/main.ts is worker/src/main.ts");
  const rootPackage = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  assert.equal(rootPackage.scripts.worker, "sh scripts/node.sh scripts/worker.ts");
  // npm run worker spawns worker/src/main.ts with the start script's flags (workerNodeFlags).
  assert.match(
    readFileSync(join(root, "scripts/worker.ts"), "utf8"),
    /workerNodeFlags\(\), join\(root, "worker\/src\/main\.ts"\)/,
  );
});

test("its HEALTHCHECK probes the worker's /healthz on the port the worker listens on", () => {
  const healthcheck = instruction("HEALTHCHECK")[0];
  assert.match(healthcheck, /\/healthz/);
  assert.match(healthcheck, /process\.env\.AREA_WORKER_PORT/);
  assert.deepEqual(instruction("ENV").filter((env) => env.startsWith("AREA_WORKER_PORT")), ["AREA_WORKER_PORT=8080"]);
  assert.deepEqual(instruction("EXPOSE"), ["8080"]);
});
