// The functions log through the same structured logger as the worker (packages/nodes).
import { createLogger } from "../../../packages/nodes/src/log.ts";

export const log = createLogger({ component: "functions" });
