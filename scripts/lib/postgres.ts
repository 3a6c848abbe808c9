// The project-local PostgreSQL 15 cluster: toolchain check (and apt install when we can),
// initdb, start and stop. initdb refuses to run as root, so as root the cluster belongs to
// an unprivileged OS user (the `postgres` user that Debian's packages create).
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { run } from "./processes.ts";

const pgVersion = 15;
const pgBin = process.env.AREA_PG_BIN ?? `/usr/lib/postgresql/${pgVersion}/bin`;
const pgShare = process.env.AREA_PG_SHARE ?? `/usr/share/postgresql/${pgVersion}`;

/** What the stack needs from the OS, with the Debian package that provides each. */
const requirements = [
  { path: join(pgBin, "postgres"), pkg: `postgresql-${pgVersion}` },
  { path: join(pgShare, "extension/pg_cron.control"), pkg: `postgresql-${pgVersion}-cron` },
  { path: join(pgShare, "extension/pgtap.control"), pkg: `postgresql-${pgVersion}-pgtap` },
  { path: join(pgShare, "extension/plpgsql_check.control"), pkg: `postgresql-${pgVersion}-plpgsql-check` },
  { path: "/usr/bin/pg_prove", pkg: "libtap-parser-sourcehandler-pgtap-perl" },
];

/** Ensures PostgreSQL 15 and its extensions are installed, installing them with apt when running as root on Debian/Ubuntu. */
export async function ensurePostgresToolchain(log: (line: string) => void): Promise<void> {
  let missing = requirements.filter((r) => !existsSync(r.path)).map((r) => r.pkg);
  if (missing.length === 0) return;
  const canApt = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
  if (!canApt) {
    throw new Error(
      `PostgreSQL ${pgVersion} with its extensions is missing. Install these packages: ${missing.join(" ")}\n` +
        `  (Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y ${missing.join(" ")};` +
        ` elsewhere set AREA_PG_BIN and AREA_PG_SHARE to a PostgreSQL ${pgVersion} with pg_cron, pgTAP and plpgsql_check)`,
    );
  }
  log(`installing ${missing.join(" ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await run("apt-get", ["update", "-qq"], { env });
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env });
  missing = requirements.filter((r) => !existsSync(r.path)).map((r) => r.pkg);
  if (missing.length > 0) throw new Error(`apt-get finished but these are still missing: ${missing.join(" ")}`);
}

/** As root, the OS user that owns and runs the cluster; otherwise the current user. */
function clusterOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) {
    execFileSync("useradd", [
      "--system",
      "--user-group",
      "--home-dir",
      "/var/lib/postgresql",
      "--shell",
      "/bin/sh",
      "postgres",
    ]);
    return clusterOwner();
  }
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

function asOwner(): { uid?: number; gid?: number; env: NodeJS.ProcessEnv } {
  const owner = clusterOwner();
  // LC_ALL keeps initdb's locale checks independent of the caller's terminal.
  const env = { PATH: `${pgBin}:/usr/bin:/bin`, LC_ALL: "C.UTF-8", HOME: "/tmp" };
  return owner ? { ...owner, env } : { env };
}

/** As root, the cluster's OS user must be able to enter every directory above the data directory. */
async function assertOwnerCanReach(dir: string): Promise<void> {
  const { code } = await run("test", ["-x", dir], { ...asOwner(), allowFailure: true });
  if (code !== 0) {
    throw new Error(
      `the cluster runs as the OS user "postgres" (initdb refuses root), which cannot enter ${dir}. ` +
        `Make the directories on that path reachable (chmod o+x), or set AREA_LOCAL_DIR to a directory it can reach.`,
    );
  }
}

export interface Cluster {
  /** Data directory. */
  dir: string;
  port: number;
  /** Superuser URL, as Supabase local gives it (postgres:postgres). */
  url: string;
}

export function clusterAt(dir: string, port: number): Cluster {
  return { dir, port, url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres` };
}

/**
 * Creates the cluster when its directory is empty and (re)writes its settings.
 * `throwaway` trades durability for speed, for test clusters that are deleted afterwards.
 */
export async function initCluster(cluster: Cluster, options: { throwaway: boolean }): Promise<void> {
  const owner = clusterOwner();
  if (owner) await assertOwnerCanReach(dirname(cluster.dir));
  if (!existsSync(join(cluster.dir, "PG_VERSION"))) {
    mkdirSync(cluster.dir, { recursive: true, mode: 0o700 });
    if (owner) chownSync(cluster.dir, owner.uid, owner.gid);
    const pwfile = join(cluster.dir, "..", `.pwfile-${process.pid}`);
    writeFileSync(pwfile, "postgres\n", { mode: 0o644 });
    try {
      await run(join(pgBin, "initdb"), [
        "-D",
        cluster.dir,
        "-U",
        "postgres",
        "--pwfile",
        pwfile,
        "--auth-host=scram-sha-256",
        "--auth-local=trust",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
      ], asOwner());
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  const settings = [
    "listen_addresses = '127.0.0.1'",
    `port = ${cluster.port}`,
    // TCP only: no socket directory to own or clean up, and URLs say exactly where we connect.
    "unix_socket_directories = ''",
    "shared_preload_libraries = 'pg_cron'",
    "cron.database_name = 'postgres'",
    // Background workers instead of libpq connections: no password needed for cron jobs.
    "cron.use_background_workers = on",
    "max_worker_processes = 32",
    "max_connections = 200",
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    ...(options.throwaway ? ["fsync = off", "synchronous_commit = off", "full_page_writes = off"] : []),
  ];
  const areaConf = join(cluster.dir, "area.conf");
  writeFileSync(areaConf, "# Written by scripts/lib/postgres.ts on every start.\n" + settings.join("\n") + "\n");
  if (owner) chownSync(areaConf, owner.uid, owner.gid);
  const mainConf = join(cluster.dir, "postgresql.conf");
  if (!readFileSync(mainConf, "utf8").includes("include 'area.conf'")) {
    writeFileSync(mainConf, readFileSync(mainConf, "utf8") + "\ninclude 'area.conf'\n");
  }
}

export async function isClusterRunning(cluster: Cluster): Promise<boolean> {
  const { code } = await run(join(pgBin, "pg_ctl"), ["status", "-D", cluster.dir], {
    ...asOwner(),
    allowFailure: true,
  });
  return code === 0;
}

/** Starts the cluster in the background (its own session, so Ctrl-C on the terminal does not reach it). */
export async function startCluster(cluster: Cluster): Promise<void> {
  if (await isClusterRunning(cluster)) return;
  const logFile = join(cluster.dir, "postgres.log");
  const result = await run(join(pgBin, "pg_ctl"), ["start", "-D", cluster.dir, "-l", logFile, "-w", "-t", "60"], {
    ...asOwner(),
    detached: true,
    allowFailure: true,
  });
  if (result.code !== 0) {
    const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").slice(-10).join("\n") : "";
    throw new Error(`PostgreSQL did not start on port ${cluster.port}:\n${result.stderr.trim()}\n${tail}`);
  }
  await waitForDatabase(cluster.url);
}

export async function stopCluster(cluster: Cluster): Promise<void> {
  if (!existsSync(join(cluster.dir, "PG_VERSION"))) return;
  if (!(await isClusterRunning(cluster))) return;
  await run(join(pgBin, "pg_ctl"), ["stop", "-D", cluster.dir, "-m", "fast", "-w", "-t", "60"], asOwner());
}

export async function waitForDatabase(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query("select 1");
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`database at ${redact(url)} is not reachable: ${(error as Error).message}`);
      }
      await sleep(100);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** A connection URL with its password masked, for messages. */
export function redact(url: string): string {
  return url.replace(/:\/\/([^:/@]+):[^@]*@/, "://$1:***@");
}
