// The worker process: connects to the database, syncs the catalogue, seals new webhook
// secrets and serves its health endpoints. It exits cleanly on SIGTERM/SIGINT.
import { loadKeyring } from "@area/nodes/crypto";
import { createLogger } from "@area/nodes/log";
import pg from "pg";
import { syncCatalogue } from "./catalogue.ts";
import { loadConfig } from "./config.ts";
import { startHealthServer } from "./health.ts";
import { sealPendingSecrets } from "./secrets.ts";

const log = createLogger({ component: "worker", pid: process.pid });
const config = loadConfig();
const keyring = await loadKeyring(config.encryptionKey);

const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 4, connectionTimeoutMillis: 2_000 });
// An idle client losing its connection (database restart) must not crash the process.
pool.on("error", (error) => log.warn("database connection lost", { error: error.message }));

async function databaseReady(): Promise<boolean> {
  try {
    await pool.query("select 1");
    return true;
  } catch {
    return false;
  }
}

const health = await startHealthServer(config.healthPort, databaseReady);
log.info("worker started", { healthPort: config.healthPort, database: await databaseReady() ? "ok" : "unreachable" });
try {
  await syncCatalogue(pool, log);
} catch (error) {
  // The seed carries the same catalogue; a failed sync must not stop event processing.
  log.error("catalogue sync failed", { error: (error as Error).message });
}

// Secrets issued by create_area() are sealed within seconds; errors are retried next round.
const sealSecrets = () =>
  sealPendingSecrets(pool, keyring, log).catch((error) =>
    log.warn("sealing webhook secrets failed", { error: (error as Error).message })
  );
await sealSecrets();
const sealTimer = setInterval(sealSecrets, 2_000);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("shutting down", { signal });
  clearInterval(sealTimer);
  health.close();
  await pool.end().catch(() => {});
  log.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
