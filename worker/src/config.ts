// Worker settings, all from the environment, checked at start so a typo fails loudly.
import { type AllowedHosts, parseAllowedHosts } from "@area/nodes/net";

export interface WorkerConfig {
  databaseUrl: string;
  healthPort: number;
  /** AREA_ENCRYPTION_KEY, parsed by loadKeyring(). */
  encryptionKey: string;
  allowedHosts: AllowedHosts;
  /** Parallel fetch loops per queue in this process (pg-boss localConcurrency). */
  concurrency: number;
  /** Jobs fetched per round trip. */
  batchSize: number;
  /** Executions of one user's AREAs running at once across all workers (group_slots.ts; pg-boss groupConcurrency). */
  groupConcurrency: number;
  /** How long SIGTERM waits for in-flight jobs before exiting. */
  shutdownTimeoutMs: number;
  /** Base of the public webhook URLs given to providers (SUPABASE_URL of the project). */
  publicUrl: string | undefined;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) throw new Error("DATABASE_URL is required (a session connection: LISTEN/NOTIFY needs one)");
  const encryptionKey = env.AREA_ENCRYPTION_KEY;
  if (!encryptionKey) {
    throw new Error("AREA_ENCRYPTION_KEY is required: <key id>:<base64 of 32 random bytes> (see README)");
  }
  return {
    databaseUrl,
    healthPort: integer(env, "AREA_WORKER_PORT", 8080, 0, 65535),
    encryptionKey,
    allowedHosts: parseAllowedHosts(env.AREA_ALLOWED_HOSTS),
    concurrency: integer(env, "AREA_WORKER_CONCURRENCY", 4, 1, 256),
    batchSize: integer(env, "AREA_WORKER_BATCH_SIZE", 16, 1, 1000),
    groupConcurrency: integer(env, "AREA_GROUP_CONCURRENCY", 8, 1, 10_000),
    shutdownTimeoutMs: integer(env, "AREA_SHUTDOWN_TIMEOUT_MS", 25_000, 0, 3_600_000),
    publicUrl: env.AREA_PUBLIC_URL || env.SUPABASE_URL || undefined,
  };
}
