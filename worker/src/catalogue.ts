// Catalogue sync at start-up: production gets new nodes without re-running seed.sql.
import { catalogueDocument } from "@area/nodes/catalogue";
import type { ServiceDefinition } from "@area/nodes/define";
import type { Logger } from "@area/nodes/log";
import type pg from "pg";

/**
 * Syncs the worker's services (enabledServices: the bench nodes too when AREA_ENABLE_BENCH_NODES=1,
 * so a bench stack's AREAs can use them).
 */
export async function syncCatalogue(pool: pg.Pool, services: ServiceDefinition[], log: Logger): Promise<number> {
  const { rows: [result] } = await pool.query<{ sync_catalogue: { changed: number } }>(
    "select public.sync_catalogue($1::jsonb)",
    [JSON.stringify(catalogueDocument(services))],
  );
  log.info("catalogue synced", { services: services.length, changed: result.sync_catalogue.changed });
  return result.sync_catalogue.changed;
}
