// npm run db:reset: recreates the local database, re-applies the Supabase-compatibility
// bootstrap, then pushes every migration and the seed. The stack must be running.
// It only ever targets the local stack's database (stack.env), never $DATABASE_URL, so a
// shell pointed at a hosted project cannot be wiped by accident.
import { recreateDatabase } from "./lib/database.ts";
import { redact } from "./lib/postgres.ts";
import { defaultLocalDir, readStackEnv } from "./lib/stack.ts";

const url = readStackEnv(defaultLocalDir).DATABASE_URL;
try {
  await recreateDatabase(url);
  console.log(`area: ${redact(url)} recreated, migrations and seed applied`);
} catch (error) {
  console.error(`area: reset failed: ${(error as Error).message}`);
  process.exit(1);
}
