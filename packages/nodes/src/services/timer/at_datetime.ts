import { Cron } from "croner";
import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { fireSchedule, latestCronRun, type ScheduleCursor, scheduleOutputs, timeZoneParam } from "../../schedule.ts";

const atParams = z.object({
  // Typed `date` in the catalogue: zod's JSON Schema has no `date-time` format for times without an offset.
  at: z.iso.datetime({ local: true, offset: true }).meta({
    "x-area-type": "date",
    description:
      "When to fire: an ISO 8601 date-time with an offset (Z, +02:00), or without one to read it in timezone",
    placeholder: "2026-12-24T18:00:00",
  }),
  timezone: timeZoneParam("IANA time zone a date-time without offset is read in"),
});

type AtParams = z.output<typeof atParams>;

export const atDatetime: ActionDefinition = {
  key: "at_datetime",
  name: "At a date and time",
  description: "Fires once, at a date and time (ISO 8601, to the second), then never again. Without an offset the " +
    "time is read in a time zone. It is checked every minute, so it fires within a minute of that instant. A time " +
    "already past when the AREA is enabled fires nothing: the first check only sets the baseline.",
  params: atParams,
  outputs: scheduleOutputs,
  sample: { fired_at: "2026-12-24T17:00:00.000Z", count: 1 },
  trigger: {
    polling: {
      minIntervalSeconds: 60,
      defaultIntervalSeconds: 60,
      poll(ctx, params, cursor) {
        const { at, timezone } = params as AtParams;
        // croner takes an ISO 8601 date-time as a one-off schedule: local to `timezone` unless it has an
        // offset, a nonexistent local time (a DST gap) moved forward, an ambiguous one taken the first time.
        // Once it fired, the cursor holds that instant, which is never later than itself: it never fires again.
        const schedule = latestCronRun(new Cron(at, { timezone }));
        return Promise.resolve(fireSchedule(schedule, ctx.scheduledAt, cursor as ScheduleCursor | undefined));
      },
    },
  },
};
