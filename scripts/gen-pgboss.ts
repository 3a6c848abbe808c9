// npm run gen:pgboss: writes the pg-boss schema migration from the installed (pinned) pg-boss.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./lib/database.ts";
import { pgbossMigrationPath, pgbossMigrationSql } from "./lib/generated.ts";

writeFileSync(join(root, pgbossMigrationPath), pgbossMigrationSql());
console.log(`area: wrote ${pgbossMigrationPath}`);
