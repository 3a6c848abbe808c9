// npm test: static checks, then a throwaway stack (own cluster directory and free ports, so a
// running developer stack is never touched), every suite against it, teardown, and one
// summary line "N passed, M failed, K skipped". Exits non-zero on any failure.
import { globSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { root } from "./lib/database.ts";
import { nodeFlags, run } from "./lib/processes.ts";
import { freePort, type RunningStack, startStack, stopStack } from "./lib/stack.ts";

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

const total: Tally = { passed: 0, failed: 0, skipped: 0 };
const failures: string[] = [];
const say = (line: string) => console.log(`test    | ${line}`);

/** Runs a suite or check, streaming its output with a prefix; never throws on failure. */
async function exec(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const { code, stdout, stderr } = await run(command, args, { cwd: root, env, echo: name, allowFailure: true })
    .catch((error) => ({ code: 127, stdout: "", stderr: String(error) }));
  return { code, output: stdout + stderr };
}

function record(name: string, tally: Tally, code: number): void {
  // A runner that failed without reporting a failing test (crash, bad flag) still fails the run.
  if (code !== 0 && tally.failed === 0) tally.failed = 1;
  total.passed += tally.passed;
  total.failed += tally.failed;
  total.skipped += tally.skipped;
  if (tally.failed > 0) failures.push(name);
  say(`${name}: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`);
}

/** Counts top-level TAP test points (pg_prove -v, deno test --reporter=tap). */
function countTapPoints(output: string): Tally {
  const tally = { passed: 0, failed: 0, skipped: 0 };
  for (const line of output.split("\n")) {
    const point = /^(not ok|ok) \d+\b[^#]*(#\s*(SKIP|TODO))?/i.exec(line);
    if (!point) continue;
    if (point[3]) tally.skipped++;
    else if (point[1] === "ok") tally.passed++;
    else tally.failed++;
  }
  return tally;
}

/** node --test's TAP summary counts leaf tests (suites are not tests). */
function countNodeSummary(output: string): Tally {
  const read = (key: string) => Number(new RegExp(`^# ${key} (\\d+)$`, "m").exec(output)?.[1] ?? 0);
  return {
    passed: read("pass"),
    failed: read("fail") + read("cancelled"),
    skipped: read("skipped") + read("todo"),
  };
}

/** A check without test points (type check, lint, format) counts as one test. */
async function check(name: string, command: string, args: string[]): Promise<void> {
  const { code } = await exec(name, command, args);
  record(name, { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 }, code);
}

const files = (pattern: string) => globSync(pattern, { cwd: root }).sort();

say("static checks");
await check("tsc", "tsc", ["--noEmit", "-p", "tsconfig.json"]);
await check("deno-check", "deno", [
  "check",
  "--config",
  "deno.json",
  ...files("supabase/functions/*/index.ts"),
  "scripts/gateway.ts",
]);
await check("lint", "deno", ["lint", "--config", "deno.json"]);
await check("fmt", "deno", ["fmt", "--check", "--config", "deno.json"]);

const localDir = join(root, ".local", `test-${process.pid}`);
mkdirSync(localDir, { recursive: true });
let stack: RunningStack | undefined;
const teardown = async () => {
  await stopStack(localDir).catch((error) => say(`teardown: ${(error as Error).message}`));
  rmSync(localDir, { recursive: true, force: true });
};
process.on("SIGINT", () => void teardown().then(() => process.exit(130)));

// The suites' local HTTP receivers and fake providers stand in for the internet.
process.env.AREA_ALLOWED_HOSTS = "127.0.0.1";
// The provider fakes (tests/support/fakes) listen on ports chosen now, so that the stack's functions
// and worker, and the suites, all know where they are.
Object.assign(process.env, {
  GITHUB_OAUTH_URL: `http://127.0.0.1:${await freePort()}`,
  GITHUB_API_URL: `http://127.0.0.1:${await freePort()}`,
  DISCORD_API_URL: `http://127.0.0.1:${await freePort()}/api/v10`,
  GITHUB_CLIENT_ID: "area-test-client",
  GITHUB_CLIENT_SECRET: `test-secret-${process.pid}`,
  AREA_FRONTEND_URL: "https://app.area.test/connections",
  // The Slack app's signing secret: supabase/functions/tests/slack_events_test.ts signs events with it.
  SLACK_SIGNING_SECRET: `slack-signing-${process.pid}`,
});
try {
  say(`starting a throwaway stack in ${localDir}`);
  stack = await startStack({
    localDir,
    ports: { db: await freePort(), gateway: await freePort(), worker: await freePort() },
    throwaway: true,
    detach: false,
    worker: true,
    log: (line) => say(line),
  });
  const env = { ...process.env, ...stack.env, AREA_LOCAL_DIR: localDir, SUPABASE_DB_URL: stack.env.DATABASE_URL };

  const db = new URL(stack.env.DATABASE_URL);
  const pgProve = await exec("pgtap", "pg_prove", [
    "--verbose",
    "--ext",
    ".sql",
    "--recurse",
    "-h",
    db.hostname,
    "-p",
    db.port,
    "-U",
    db.username,
    "-d",
    db.pathname.slice(1),
    "supabase/tests",
  ], { ...env, PGPASSWORD: decodeURIComponent(db.password) });
  record("pgtap", countTapPoints(pgProve.output), pgProve.code);

  const denoTest = await exec("deno", "deno", [
    "test",
    "--config",
    "deno.json",
    "--reporter=tap",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-sys",
    "supabase/functions/",
  ], env);
  record("deno", countTapPoints(denoTest.output), denoTest.code);

  const nodeTest = await exec("node", process.execPath, [
    ...nodeFlags,
    "--test",
    "--test-reporter=tap",
    "--test-concurrency=1",
    ...files("{packages/*,worker}/{src,test}/**/*.test.ts"),
    ...files("tests/**/*.test.ts"),
  ], env);
  record("node", countNodeSummary(nodeTest.output), nodeTest.code);
} catch (error) {
  say(`the test stack failed: ${(error as Error).message}`);
  total.failed++;
  failures.push("stack");
} finally {
  await teardown();
}

if (failures.length > 0) say(`failed: ${failures.join(", ")}`);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
