import type { ServiceDefinition } from "../../define.ts";
import { noopAction } from "./noop_action.ts";
import { noopReaction } from "./noop_reaction.ts";

/** No-op nodes for load tests: registered only with AREA_ENABLE_BENCH_NODES=1 (see registry.ts). */
export const bench: ServiceDefinition = {
  key: "bench",
  name: "Bench",
  description: "No-op action and reaction for measuring AREA itself.",
  icon: "gauge",
  auth: "none",
  actions: [noopAction],
  reactions: [noopReaction],
};
