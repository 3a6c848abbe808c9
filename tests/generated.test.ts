// Committed generated files must match their sources: seed.sql (packages/nodes), the pg-boss
// migration (the installed pg-boss) and the database types (the migrated schema of the suite's stack).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { root } from "../scripts/lib/database.ts";
import {
  databaseTypes,
  pgbossMigrationPath,
  pgbossMigrationSql,
  seedPath,
  seedSql,
  typesPath,
} from "../scripts/lib/generated.ts";

test("supabase/seed.sql carries the catalogue packages/nodes declares (npm run gen:seed)", () => {
  assert.equal(readFileSync(join(root, seedPath), "utf8"), seedSql(), "seed.sql is stale: run npm run gen:seed");
});

test("the pg-boss migration is the installed pg-boss's schema and insert (npm run gen:pgboss)", () => {
  assert.equal(
    readFileSync(join(root, pgbossMigrationPath), "utf8"),
    pgbossMigrationSql(),
    "the pg-boss migration is stale: run npm run gen:pgboss",
  );
});

test("the committed database types match the migrated schema (npm run gen:types)", async () => {
  const fresh = await databaseTypes(process.env.DATABASE_URL!);
  assert.equal(readFileSync(join(root, typesPath), "utf8"), fresh, "database.types.ts is stale: run npm run gen:types");
});
