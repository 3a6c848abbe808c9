import type { ServiceDefinition } from "../../define.ts";
import { cron } from "./cron.ts";
import { everyInterval } from "./every_interval.ts";

export const timer: ServiceDefinition = {
  key: "timer",
  name: "Timer",
  description: "Time-based triggers.",
  icon: "clock",
  auth: "none",
  actions: [everyInterval, cron],
  reactions: [],
};
