// npm run worker: one more worker process against the running local stack. DATABASE_URL and
// AREA_WORKER_PORT from the environment win; otherwise the stack's database and a free port.
import { defaultLocalDir, freePort, readStackEnv } from "./lib/stack.ts";

process.env.DATABASE_URL ??= readStackEnv(defaultLocalDir).DATABASE_URL;
process.env.AREA_WORKER_PORT ??= String(await freePort());
await import("../worker/src/main.ts");
