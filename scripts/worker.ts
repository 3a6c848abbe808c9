// npm run worker: a worker process. With DATABASE_URL and AREA_ENCRYPTION_KEY set (production),
// it runs exactly the image's entry point (worker/src/main.ts, with the heap flags of the worker's
// start script); without them it joins the running local stack, on a free health port unless
// AREA_WORKER_PORT says otherwise. A child process, because V8's heap flags only apply at start.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { root } from "./lib/database.ts";
import { defaultLocalDir, freePort, readStackEnv, workerNodeFlags } from "./lib/stack.ts";

if (!process.env.DATABASE_URL || !process.env.AREA_ENCRYPTION_KEY) {
  const stack = readStackEnv(defaultLocalDir);
  process.env.DATABASE_URL ??= stack.DATABASE_URL;
  process.env.AREA_ENCRYPTION_KEY ??= stack.AREA_ENCRYPTION_KEY;
  process.env.AREA_WORKER_PORT ??= String(await freePort());
}
const worker = spawn(process.execPath, [...workerNodeFlags(), join(root, "worker/src/main.ts")], {
  cwd: join(root, "worker"),
  stdio: "inherit",
});
// The worker shuts down gracefully on these; this process only passes them on and waits.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => worker.kill(signal));
worker.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
