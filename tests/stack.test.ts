// The repository's public commands on a stack of their own (own directory and free ports):
// npm start --detach, a second start, npm stop leaving no process, db:reset twice, then
// `supabase db push` finding nothing left to apply.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { pushMigrations, root } from "../scripts/lib/database.ts";
import { isAlive, nodeFlags, run, waitForHttp } from "../scripts/lib/processes.ts";
import { freePort, readStackEnv, stackPaths } from "../scripts/lib/stack.ts";

const localDir = mkdtempSync(join(root, ".local", "stack-test-"));
const paths = stackPaths(localDir);
// Only what a developer's shell would have: nothing pointing at the suite's own stack.
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AREA_LOCAL_DIR: localDir,
  AREA_DB_PORT: String(await freePort()),
  AREA_GATEWAY_PORT: String(await freePort()),
  AREA_WORKER_PORT: String(await freePort()),
};
const script = (name: string, ...args: string[]) =>
  run(process.execPath, [...nodeFlags, join(root, "scripts", name), ...args], {
    env,
    cwd: root,
    allowFailure: true,
  });

/** Every pid the stack recorded: services' pid files and the postmaster. */
function stackPids(): number[] {
  const services = existsSync(paths.run)
    ? readdirSync(paths.run).map((file) => Number(readFileSync(join(paths.run, file), "utf8")))
    : [];
  const postmaster = join(paths.db, "postmaster.pid");
  return existsSync(postmaster) ? [...services, Number(readFileSync(postmaster, "utf8").split("\n")[0])] : services;
}

after(async () => {
  await script("stop.ts");
  rmSync(localDir, { recursive: true, force: true });
});

test("start --detach serves health, refuses a second start, and stop leaves no process", async () => {
  const started = await script("start.ts", "--detach");
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const stackEnv = readStackEnv(localDir);
  for (
    const key of [
      "DATABASE_URL",
      "SUPABASE_URL",
      "FUNCTIONS_URL",
      "SUPABASE_ANON_KEY",
      "SUPABASE_SERVICE_ROLE_KEY",
      "SUPABASE_JWT_SECRET",
    ]
  ) {
    assert.ok(stackEnv[key as keyof typeof stackEnv], `stack.env has ${key}`);
  }
  assert.equal(stackEnv.FUNCTIONS_URL, `http://127.0.0.1:${env.AREA_GATEWAY_PORT}/functions/v1`);
  assert.equal((await fetch(`${stackEnv.FUNCTIONS_URL}/api/health`)).status, 200);
  assert.equal((await fetch(`${stackEnv.WORKER_URL}/readyz`)).status, 200);

  const second = await script("start.ts", "--detach");
  assert.notEqual(second.code, 0);
  assert.match(second.stderr, /already running .* run `npm stop` first/);

  const pids = stackPids();
  assert.equal(pids.length, 3, "worker, gateway and postmaster");
  const stopped = await script("stop.ts");
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /stopped worker, gateway, database/);
  assert.deepEqual(pids.filter(isAlive), [], "no process of the stack is left");

  const again = await script("stop.ts");
  assert.match(again.stdout, /nothing was running/);
});

test("db:reset twice in a row, then supabase db push has nothing left to apply", async () => {
  const started = await script("start.ts", "--detach", "--no-worker");
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const { DATABASE_URL } = readStackEnv(localDir);
  assert.equal(existsSync(join(paths.run, "worker.pid")), false, "--no-worker starts no worker");

  for (const round of [1, 2]) {
    const reset = await script("db-reset.ts");
    assert.equal(reset.code, 0, `reset ${round}: ${reset.stderr}`);
    assert.match(reset.stdout, /recreated, migrations and seed applied/);
  }
  assert.match(await pushMigrations(DATABASE_URL), /up to date/i);
  assert.equal((await script("stop.ts")).code, 0);
});

test("npm start in the foreground prefixes logs per component and stops everything on Ctrl-C", async () => {
  const start = spawn(process.execPath, [...nodeFlags, join(root, "scripts/start.ts")], {
    env,
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  start.stdout!.on("data", (chunk) => (output += chunk));
  start.stderr!.on("data", (chunk) => (output += chunk));
  const deadline = Date.now() + 60_000;
  while (!output.includes("press Ctrl-C to stop") && start.exitCode === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.match(output, /press Ctrl-C to stop/, output);
  const { FUNCTIONS_URL } = readStackEnv(localDir);
  await waitForHttp(`${FUNCTIONS_URL}/api/health`, undefined, 5_000);
  assert.match(output, /^gateway +\| \{.*"msg":"request".*"status":200/m, "gateway lines carry its prefix");
  assert.match(output, /^worker +\| \{.*"msg":"worker starting"/m, "worker lines carry its prefix");

  const pids = stackPids();
  assert.equal(pids.length, 3);
  start.kill("SIGINT");
  const [code] = await once(start, "exit");
  assert.equal(code, 0, output);
  assert.match(output, /stopped/);
  assert.deepEqual(pids.filter(isAlive), [], "no process of the stack is left");
});
