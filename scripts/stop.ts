// npm stop: stops a stack started with `npm start -- --detach` (worker, gateway, database).
import { defaultLocalDir, stopStack } from "./lib/stack.ts";

const stopped = await stopStack(defaultLocalDir);
console.log(stopped.length > 0 ? `area: stopped ${stopped.join(", ")}` : "area: nothing was running");
