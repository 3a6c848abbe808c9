// npm run gen:types: writes the database types from the running local stack's schema.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./lib/database.ts";
import { databaseTypes, typesPath } from "./lib/generated.ts";
import { defaultLocalDir, readStackEnv } from "./lib/stack.ts";

writeFileSync(join(root, typesPath), await databaseTypes(readStackEnv(defaultLocalDir).DATABASE_URL));
console.log(`area: wrote ${typesPath}`);
