// The local AREA stack: PostgreSQL (bootstrap, migrations, seed), the functions gateway
// on Deno and one worker. Used by `npm start` (the developer's stack under .local/) and by
// `npm test` (a throwaway stack in its own directory, on free ports).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { applySupabaseCompat, pushMigrations, root } from "./database.ts";
import { apiKey, generateEncryptionKey, generateJwtSecret } from "./keys.ts";
import { clusterAt, ensurePostgresToolchain, initCluster, startCluster, stopCluster } from "./postgres.ts";
import { runningPid, type Service, startService, stopService, waitForHttp } from "./processes.ts";

export interface Ports {
  db: number;
  gateway: number;
  worker: number;
}

/** Supabase's local ports for the database and the API gateway; the worker's health port next to them. */
export const defaultPorts: Ports = {
  db: Number(process.env.AREA_DB_PORT ?? 54322),
  gateway: Number(process.env.AREA_GATEWAY_PORT ?? 54321),
  worker: Number(process.env.AREA_WORKER_PORT ?? 54330),
};

export const defaultLocalDir = process.env.AREA_LOCAL_DIR ?? join(root, ".local");

/** What clients need to reach the stack; written to <localDir>/stack.env. */
export interface StackEnv {
  DATABASE_URL: string;
  SUPABASE_URL: string;
  FUNCTIONS_URL: string;
  SUPABASE_ANON_KEY: string;
  SUPABASE_SERVICE_ROLE_KEY: string;
  SUPABASE_JWT_SECRET: string;
  AREA_ENCRYPTION_KEY: string;
  WORKER_URL: string;
}

export function stackPaths(localDir: string) {
  return {
    db: join(localDir, "db"),
    logs: join(localDir, "logs"),
    run: join(localDir, "run"),
    env: join(localDir, "stack.env"),
  };
}

export function readStackEnv(localDir = defaultLocalDir): StackEnv {
  const file = stackPaths(localDir).env;
  if (!existsSync(file)) throw new Error(`${file} does not exist: start the stack first (npm start -- --detach)`);
  const entries = readFileSync(file, "utf8").split("\n").filter((l) => l.includes("=") && !l.startsWith("#"))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]);
  return Object.fromEntries(entries) as StackEnv;
}

export interface StackOptions {
  localDir: string;
  ports: Ports;
  /** Faster, non-durable database settings for stacks deleted after use (tests). */
  throwaway: boolean;
  /** Leave the services running in the background, logging to <localDir>/logs. */
  detach: boolean;
  worker: boolean;
  log: (line: string) => void;
}

export interface RunningStack {
  env: StackEnv;
  services: Service[];
}

const services = ["worker", "gateway"] as const;

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const paths = stackPaths(options.localDir);
  const running = services.filter((name) => runningPid(paths.run, name) !== undefined);
  if (running.length > 0) {
    throw new Error(`AREA is already running from ${options.localDir} (${running.join(", ")}): run \`npm stop\` first`);
  }
  mkdirSync(options.localDir, { recursive: true });
  // The cluster may run as another OS user (see postgres.ts), which needs to enter this directory.
  if (process.getuid?.() === 0) chmodSync(options.localDir, 0o755);
  await ensurePostgresToolchain(options.log);

  const cluster = clusterAt(paths.db, options.ports.db);
  await initCluster(cluster, { throwaway: options.throwaway });
  await startCluster(cluster);
  options.log(`database ready on 127.0.0.1:${cluster.port}`);
  await applySupabaseCompat(cluster.url);
  const pushed = await pushMigrations(cluster.url);
  for (const line of pushed.split("\n").filter(Boolean)) options.log(`db push: ${line}`);

  // Keep secrets across restarts: tokens handed out stay valid, stored ciphertexts readable.
  const previous = existsSync(paths.env) ? readStackEnv(options.localDir) : undefined;
  const secret = previous?.SUPABASE_JWT_SECRET ?? generateJwtSecret();
  const supabaseUrl = `http://127.0.0.1:${options.ports.gateway}`;
  const env: StackEnv = {
    DATABASE_URL: cluster.url,
    SUPABASE_URL: supabaseUrl,
    FUNCTIONS_URL: `${supabaseUrl}/functions/v1`,
    SUPABASE_ANON_KEY: await apiKey(secret, "anon"),
    SUPABASE_SERVICE_ROLE_KEY: await apiKey(secret, "service_role"),
    SUPABASE_JWT_SECRET: secret,
    AREA_ENCRYPTION_KEY: previous?.AREA_ENCRYPTION_KEY ?? generateEncryptionKey(),
    WORKER_URL: `http://127.0.0.1:${options.ports.worker}`,
  };

  const started: Service[] = [];
  const common = { runDir: paths.run, logDir: paths.logs, detach: options.detach, cwd: root };
  try {
    const gateway = startService("gateway", "deno", gatewayArgs(options.ports.gateway, join(root, "supabase")), {
      ...common,
      env: {
        ...process.env,
        // The variables Supabase's edge runtime gives every function.
        SUPABASE_URL: env.SUPABASE_URL,
        SUPABASE_DB_URL: env.DATABASE_URL,
        SUPABASE_ANON_KEY: env.SUPABASE_ANON_KEY,
        SUPABASE_SERVICE_ROLE_KEY: env.SUPABASE_SERVICE_ROLE_KEY,
        SUPABASE_JWT_SECRET: env.SUPABASE_JWT_SECRET,
        AREA_ENCRYPTION_KEY: env.AREA_ENCRYPTION_KEY,
      },
    });
    started.push(gateway);
    await waitForHttp(`${env.FUNCTIONS_URL}/api/health`, gateway);
    options.log(`functions ready at ${env.FUNCTIONS_URL}`);

    if (options.worker) {
      const worker = startService("worker", process.execPath, [
        ...workerNodeFlags(),
        join(root, "worker/src/main.ts"),
      ], {
        ...common,
        env: {
          ...process.env,
          DATABASE_URL: env.DATABASE_URL,
          AREA_ENCRYPTION_KEY: env.AREA_ENCRYPTION_KEY,
          AREA_WORKER_PORT: String(options.ports.worker),
          // Webhook URLs given to providers; a deployment sets its public SUPABASE_URL instead.
          AREA_PUBLIC_URL: process.env.AREA_PUBLIC_URL ?? env.SUPABASE_URL,
        },
      });
      started.push(worker);
      await waitForHttp(`${env.WORKER_URL}/readyz`, worker);
      options.log(`worker ready (health on ${env.WORKER_URL})`);
    }
  } catch (error) {
    await stopStack(options.localDir);
    throw error;
  }

  writeFileSync(
    paths.env,
    "# Written by npm start: how to reach the local AREA stack.\n" +
      Object.entries(env).map(([key, value]) => `${key}=${value}`).join("\n") + "\n",
    { mode: 0o600 },
  );
  return { env, services: started };
}

/** Stops the worker, then the gateway, then the database. Safe to call when nothing runs. */
export async function stopStack(localDir: string): Promise<string[]> {
  const paths = stackPaths(localDir);
  const stopped: string[] = [];
  for (const name of services) {
    if (await stopService(paths.run, name)) stopped.push(name);
  }
  const cluster = clusterAt(paths.db, 0);
  if (existsSync(join(paths.db, "postmaster.pid"))) stopped.push("database");
  await stopCluster(cluster);
  return stopped;
}

/**
 * The worker's node flags (heap limits among them): those of its start script, which the image's
 * CMD repeats (tests/dockerfile.test.ts), so a stack's worker runs as a deployed one does.
 */
export function workerNodeFlags(): string[] {
  const start: string = JSON.parse(readFileSync(join(root, "worker/package.json"), "utf8")).scripts.start;
  return start.split(" ").filter((word) => word.startsWith("--"));
}

/** `deno` arguments that serve the functions of a supabase directory (scripts/gateway.ts). */
export function gatewayArgs(port: number, supabaseDir: string): string[] {
  return [
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-sys",
    "--config",
    join(root, "deno.json"),
    join(root, "scripts/gateway.ts"),
    "--port",
    String(port),
    "--supabase-dir",
    supabaseDir,
  ];
}

/** A TCP port that is free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
