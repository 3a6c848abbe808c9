// Worker settings, all from the environment.
export interface WorkerConfig {
  databaseUrl: string;
  healthPort: number;
  /** AREA_ENCRYPTION_KEY, parsed by loadKeyring(). */
  encryptionKey: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) throw new Error("DATABASE_URL is required (a session connection: LISTEN/NOTIFY needs one)");
  const healthPort = Number(env.AREA_WORKER_PORT ?? 8080);
  if (!Number.isInteger(healthPort) || healthPort < 0 || healthPort > 65535) {
    throw new Error(`AREA_WORKER_PORT must be a TCP port (0-65535), got "${env.AREA_WORKER_PORT}"`);
  }
  const encryptionKey = env.AREA_ENCRYPTION_KEY;
  if (!encryptionKey) {
    throw new Error("AREA_ENCRYPTION_KEY is required: <key id>:<base64 of 32 random bytes> (see README)");
  }
  return { databaseUrl, healthPort, encryptionKey };
}
