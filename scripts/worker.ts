// npm run worker: one more worker process against the running local stack. DATABASE_URL and
// AREA_WORKER_PORT from the environment win; otherwise the stack's database and key, and a free port.
import { defaultLocalDir, freePort, readStackEnv } from "./lib/stack.ts";

const stack = readStackEnv(defaultLocalDir);
process.env.DATABASE_URL ??= stack.DATABASE_URL;
process.env.AREA_ENCRYPTION_KEY ??= stack.AREA_ENCRYPTION_KEY;
process.env.AREA_WORKER_PORT ??= String(await freePort());
await import("../worker/src/main.ts");
