// npm run gen:seed: writes supabase/seed.sql from packages/nodes.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./lib/database.ts";
import { seedPath, seedSql } from "./lib/generated.ts";

writeFileSync(join(root, seedPath), seedSql());
console.log(`area: wrote ${seedPath}`);
