// Catalogue sync at start-up: production gets new nodes without re-running seed.sql.
import { catalogueDocument } from "@area/nodes/catalogue";
import type { Logger } from "@area/nodes/log";
import { enabledServices } from "@area/nodes/registry";
import type pg from "pg";

export async function syncCatalogue(pool: pg.Pool, log: Logger): Promise<number> {
  // The bench nodes too when AREA_ENABLE_BENCH_NODES=1: a bench stack's AREAs can then use them.
  const services = enabledServices(process.env);
  const { rows: [result] } = await pool.query<{ sync_catalogue: { changed: number } }>(
    "select public.sync_catalogue($1::jsonb)",
    [JSON.stringify(catalogueDocument(services))],
  );
  log.info("catalogue synced", { services: services.length, changed: result.sync_catalogue.changed });
  return result.sync_catalogue.changed;
}
