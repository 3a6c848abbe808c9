import { z } from "zod";
import type { ActionDefinition, PollResult } from "../../define.ts";

/** How many times the timer fired since the AREA was last enabled (the engine resets the cursor then). */
type IntervalCursor = { count: number };

// The engine schedules one poll per period, so each poll is one firing, at its scheduled slot. The
// first poll after enabling (no cursor) is the baseline: it only starts the count.
function fire(scheduledAt: Date, cursor: IntervalCursor | undefined): PollResult {
  if (cursor === undefined) return { events: [], cursor: { count: 0 } satisfies IntervalCursor };
  const count = cursor.count + 1;
  const firedAt = scheduledAt.toISOString();
  return {
    events: [{ dedupeKey: firedAt, outputs: { fired_at: firedAt, count } }],
    cursor: { count } satisfies IntervalCursor,
  };
}

export const everyInterval: ActionDefinition = {
  key: "every_interval",
  name: "Every N seconds",
  description: "Fires at a fixed interval, from the moment the AREA is enabled.",
  params: z.object({
    seconds: z.number().int().min(5).max(31_536_000).meta({ description: "Interval in seconds (5 or more)" }),
  }),
  outputs: z.object({
    fired_at: z.iso.datetime().meta({ description: "When the timer fired (UTC)" }),
    count: z.number().int().meta({
      description: "How many times the timer has fired since the AREA was last enabled, this time included",
    }),
  }),
  sample: { fired_at: "2026-01-01T12:00:00.000Z", count: 1 },
  trigger: {
    polling: {
      minIntervalSeconds: 5,
      defaultIntervalSeconds: 60,
      intervalParam: "seconds",
      poll: (ctx, _params, cursor) => Promise.resolve(fire(ctx.scheduledAt, cursor as IntervalCursor | undefined)),
    },
  },
};
