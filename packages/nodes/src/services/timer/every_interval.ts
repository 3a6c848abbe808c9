import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";

export const everyInterval: ActionDefinition = {
  key: "every_interval",
  name: "Every N seconds",
  description: "Fires at a fixed interval, from the moment the AREA is enabled.",
  params: z.object({
    seconds: z.number().int().min(5).max(31_536_000).meta({ description: "Interval in seconds (5 or more)" }),
  }),
  outputs: z.object({
    fired_at: z.iso.datetime().meta({ description: "When the timer fired (UTC)" }),
    count: z.number().int().meta({ description: "How many times this AREA's timer has fired, this time included" }),
  }),
  sample: { fired_at: "2026-01-01T12:00:00.000Z", count: 1 },
  trigger: { polling: { minIntervalSeconds: 5, defaultIntervalSeconds: 60, intervalParam: "seconds" } },
};
