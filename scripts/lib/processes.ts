// Child processes of the local stack: one-shot commands, long-running services with
// prefixed output (foreground) or log files (detached), pid files and health waits.
import { type ChildProcess, spawn, type SpawnOptions } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Flags every Node process of ours gets: TypeScript entry points without the type-stripping warning. */
export const nodeFlags = ["--disable-warning=ExperimentalWarning"];

/**
 * Runs a command to completion; throws with its output when it exits non-zero (unless
 * allowFailure). With `echo`, its output is also streamed, each line prefixed with that name.
 */
export function run(
  command: string,
  args: string[],
  options: SpawnOptions & { allowFailure?: boolean; input?: string; echo?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...options,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => (stdout += chunk));
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    if (options.echo) {
      prefixLines(options.echo, child.stdout!);
      prefixLines(options.echo, child.stderr!);
    }
    child.stdin?.on("error", () => {}).end(options.input);
    child.on("error", reject);
    child.on("close", (code) => {
      const result = { code: code ?? 1, stdout, stderr };
      if (result.code !== 0 && !options.allowFailure) {
        const output = (stderr || stdout).trim().split("\n").slice(-20).join("\n");
        reject(new Error(`${command} ${args.join(" ")} exited with ${result.code}\n${output}`));
      } else {
        resolve(result);
      }
    });
  });
}

const colours = [36, 35, 33, 32, 34];
let nextColour = 0;

/** Copies a stream line by line to stdout, each line prefixed with the component's name. */
export function prefixLines(name: string, stream: NodeJS.ReadableStream): void {
  const prefix = process.stdout.isTTY
    ? `\x1b[${colours[nextColour++ % colours.length]}m${name.padEnd(8)}|\x1b[0m `
    : `${name.padEnd(8)}| `;
  createInterface({ input: stream }).on("line", (line) => process.stdout.write(prefix + line + "\n"));
}

export interface Service {
  name: string;
  child: ChildProcess;
}

/**
 * Starts a long-running service in its own process group (so a terminal Ctrl-C reaches
 * only the orchestrator, which then stops everything in order). Foreground services get
 * prefixed output; detached ones write to logs/<name>.log and outlive this process.
 */
export function startService(
  name: string,
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; runDir: string; logDir: string; detach: boolean; cwd?: string },
): Service {
  mkdirSync(options.runDir, { recursive: true });
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${name}.log`);
  const child = options.detach
    ? spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", openSync(logFile, "a"), openSync(logFile, "a")],
    })
    : spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  if (options.detach) {
    child.unref();
  } else {
    const log = createWriteStream(logFile, { flags: "a" });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    prefixLines(name, child.stdout!);
    prefixLines(name, child.stderr!);
  }
  writeFileSync(pidFile(options.runDir, name), String(child.pid));
  return { name, child };
}

function pidFile(runDir: string, name: string): string {
  return join(runDir, `${name}.pid`);
}

/** True while the process runs; a zombie (exited, not yet reaped by its parent) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may contain spaces, so read after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true;
  }
}

/** The pid recorded for a service, when that process is still alive. */
export function runningPid(runDir: string, name: string): number | undefined {
  const file = pidFile(runDir, name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8"));
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** SIGTERM to the service's process group, SIGKILL if it is still there after the grace period. */
export async function stopService(runDir: string, name: string, graceMs = 15_000): Promise<boolean> {
  const pid = runningPid(runDir, name);
  rmSync(pidFile(runDir, name), { force: true });
  if (pid === undefined) return false;
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) signalGroup(pid, "SIGKILL");
  while (isAlive(pid)) await sleep(20);
  return true;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch { /* already gone */ }
  }
}

/** Polls a URL until it answers 200; fails early when the service's process has exited. */
export async function waitForHttp(url: string, service: Service | undefined, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (service && service.child.exitCode !== null) {
      throw new Error(`${service.name} exited with code ${service.child.exitCode} before ${url} answered`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000}s (last: ${last})`);
}
