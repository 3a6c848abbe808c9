// npm start [-- --detach] [-- --no-worker]: the local AREA stack (see README).
import { parseArgs } from "node:util";
import { defaultLocalDir, defaultPorts, startStack, stopStack } from "./lib/stack.ts";

const { values } = parseArgs({
  options: { detach: { type: "boolean", default: false }, "no-worker": { type: "boolean", default: false } },
});
const log = (line: string) => console.log(`area    | ${line}`);

let stack;
try {
  stack = await startStack({
    localDir: defaultLocalDir,
    ports: defaultPorts,
    throwaway: false,
    detach: values.detach,
    worker: !values["no-worker"],
    log,
  });
} catch (error) {
  console.error(`area: ${(error as Error).message}`);
  process.exit(1);
}

const { env } = stack;
log(`ready. Functions: ${env.FUNCTIONS_URL}  Database: ${env.DATABASE_URL}`);
log(`connection details in ${defaultLocalDir}/stack.env; a user token: npm run token -- you@example.com`);

if (values.detach) {
  log("running in the background; `npm stop` stops it");
} else {
  log("press Ctrl-C to stop");
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${reason})`);
    await stopStack(defaultLocalDir);
    log("stopped");
    process.exit(reason.startsWith("SIG") ? 0 : 1);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  for (const service of stack.services) {
    service.child.on("exit", (code) => void stop(`${service.name} exited with code ${code}`));
  }
}
