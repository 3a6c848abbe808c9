// The fault-injection suite's stack: a throwaway database and functions gateway (scripts/lib/stack.ts)
// and worker processes started, killed and stopped one by one, exactly as `npm run worker` starts
// them (the worker's own heap flags), and a Postgres that can be taken down and brought back.
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, createWriteStream, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { root } from "../../scripts/lib/database.ts";
import { clusterAt, startCluster, stopCluster } from "../../scripts/lib/postgres.ts";
import { waitForHttp } from "../../scripts/lib/processes.ts";
import {
  freePort,
  type RunningStack,
  stackPaths,
  startStack,
  stopStack,
  workerNodeFlags,
} from "../../scripts/lib/stack.ts";

export interface Worker {
  name: string;
  pid: number;
  /** The exit code and signal once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** null while the process runs. */
  exitCode(): number | null;
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the time /readyz answered 200. */
  waitReady(timeoutMs: number): Promise<number>;
}

export class ChaosStack {
  readonly pool: pg.Pool;
  readonly #name: string;
  readonly #localDir: string;
  readonly #stack: RunningStack;
  readonly #dbPort: number;
  readonly #workers = new Set<ChildProcess>();
  #started = 0;

  private constructor(name: string, localDir: string, stack: RunningStack, dbPort: number) {
    this.#name = name;
    this.#localDir = localDir;
    this.#stack = stack;
    this.#dbPort = dbPort;
    this.pool = new pg.Pool({ connectionString: stack.env.DATABASE_URL, max: 4 });
    // Idle connections die with Postgres in the restart scenario: that must not crash the test.
    this.pool.on("error", () => {});
  }

  static async start(name: string, log: (line: string) => void = () => {}): Promise<ChaosStack> {
    const localDir = join(root, ".local", `${name}-${process.pid}`);
    mkdirSync(localDir, { recursive: true });
    const ports = { db: await freePort(), gateway: await freePort(), worker: await freePort() };
    const stack = await startStack({ localDir, ports, throwaway: true, detach: true, worker: false, log });
    return new ChaosStack(name, localDir, stack, ports.db);
  }

  get functionsUrl(): string {
    return this.#stack.env.FUNCTIONS_URL;
  }

  /** A worker process on the stack, ready (its /readyz answered 200) when this resolves. */
  async startWorker(env: Record<string, string> = {}): Promise<Worker> {
    const name = `worker-${++this.#started}`;
    const port = await freePort();
    const logs = stackPaths(this.#localDir).logs;
    mkdirSync(logs, { recursive: true });
    const child = spawn(process.execPath, [...workerNodeFlags(), join(root, "worker/src/main.ts")], {
      cwd: join(root, "worker"),
      env: {
        ...process.env,
        DATABASE_URL: this.#stack.env.DATABASE_URL,
        AREA_ENCRYPTION_KEY: this.#stack.env.AREA_ENCRYPTION_KEY,
        AREA_WORKER_PORT: String(port),
        AREA_PUBLIC_URL: this.#stack.env.SUPABASE_URL,
        // The receivers listen on loopback, which egress refuses unless allowed.
        AREA_ALLOWED_HOSTS: "127.0.0.1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const log = createWriteStream(join(logs, `${name}.log`));
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.#workers.add(child);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on("exit", (code, signal) => {
        this.#workers.delete(child);
        resolve({ code, signal });
      });
    });
    const waitReady = async (timeoutMs: number) => {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, undefined, timeoutMs);
      return Date.now();
    };
    await waitReady(60_000);
    return {
      name,
      pid: child.pid!,
      exited,
      exitCode: () => child.exitCode,
      kill: (signal) => child.kill(signal),
      waitReady,
    };
  }

  /** Postgres down (a fast shutdown: clients are disconnected) for `downMs`, then up again. */
  async restartPostgres(downMs: number): Promise<{ downAt: number; upAt: number }> {
    const cluster = clusterAt(stackPaths(this.#localDir).db, this.#dbPort);
    await stopCluster(cluster);
    const downAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await startCluster(cluster);
    return { downAt, upAt: Date.now() };
  }

  /** SIGTERM every worker still running and waits for them to exit. */
  async stopWorkers(): Promise<void> {
    const running = [...this.#workers].map((child) => new Promise((resolve) => child.once("exit", resolve)));
    for (const child of this.#workers) child.kill("SIGTERM");
    await Promise.all(running);
  }

  /** Stops everything; the services' logs stay in .local/<name>-logs for a look at what happened. */
  async stop(): Promise<void> {
    for (const child of this.#workers) child.kill("SIGKILL");
    await this.pool.end().catch(() => {});
    await stopStack(this.#localDir);
    const kept = join(root, ".local", `${this.#name}-logs`);
    rmSync(kept, { recursive: true, force: true });
    cpSync(stackPaths(this.#localDir).logs, kept, { recursive: true });
    rmSync(this.#localDir, { recursive: true, force: true });
  }
}
