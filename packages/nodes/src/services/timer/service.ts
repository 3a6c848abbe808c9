import type { ServiceDefinition } from "../../define.ts";
import { atDatetime } from "./at_datetime.ts";
import { cron } from "./cron.ts";
import { everyInterval } from "./every_interval.ts";
import { rrule } from "./rrule.ts";

export const timer: ServiceDefinition = {
  key: "timer",
  name: "Timer",
  description: "Time-based triggers.",
  icon: "clock",
  auth: "none",
  actions: [everyInterval, cron, atDatetime, rrule],
  reactions: [],
};
