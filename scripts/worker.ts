// npm run worker: a worker process. With DATABASE_URL and AREA_ENCRYPTION_KEY set (production),
// it is exactly the image's entry point (worker/src/main.ts); without them it joins the running
// local stack, on a free health port unless AREA_WORKER_PORT says otherwise.
import { defaultLocalDir, freePort, readStackEnv } from "./lib/stack.ts";

if (!process.env.DATABASE_URL || !process.env.AREA_ENCRYPTION_KEY) {
  const stack = readStackEnv(defaultLocalDir);
  process.env.DATABASE_URL ??= stack.DATABASE_URL;
  process.env.AREA_ENCRYPTION_KEY ??= stack.AREA_ENCRYPTION_KEY;
  process.env.AREA_WORKER_PORT ??= String(await freePort());
}
await import("../worker/src/main.ts");
