import { Cron } from "croner";
import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { fireSchedule, latestCronRun, type ScheduleCursor, scheduleOutputs, timeZoneParam } from "../../schedule.ts";

// Five fields (minute hour day month weekday), or six with seconds first; @daily-style nicknames too.
const CRON_MODE = "5-or-6-parts";

/** Why croner refuses the expression, or null when it is a schedule with a next occurrence. */
function expressionProblem(expression: string): string | null {
  try {
    return new Cron(expression, { mode: CRON_MODE }).nextRun() ? null : "it never matches a date";
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, "");
  }
}

const cronParams = z.object({
  expression: z.string().superRefine((expression, ctx) => {
    const problem = expressionProblem(expression);
    if (problem) ctx.addIssue({ code: "custom", message: `not a cron expression: ${problem}` });
  }).meta({
    description: "Cron expression: minute hour day month weekday, or with seconds first",
    placeholder: "0 9 * * 1-5",
  }),
  timezone: timeZoneParam("IANA time zone the expression is read in"),
});

type CronParams = z.output<typeof cronParams>;

export const cron: ActionDefinition = {
  key: "cron",
  name: "On a cron schedule",
  description: "Fires on a cron schedule (5 fields, or 6 with seconds first) read in a time zone. The schedule is " +
    "checked every minute and fires at most once per check: after downtime only the latest missed occurrence fires, " +
    "and a schedule finer than a minute fires once a minute.",
  params: cronParams,
  outputs: scheduleOutputs,
  sample: { fired_at: "2026-01-05T08:00:00.000Z", count: 1 },
  trigger: {
    polling: {
      minIntervalSeconds: 60,
      defaultIntervalSeconds: 60,
      // The engine hands poll() the params parsed by cronParams: checked, with the default time zone.
      poll(ctx, params, cursor) {
        const { expression, timezone } = params as CronParams;
        const schedule = latestCronRun(new Cron(expression, { mode: CRON_MODE, timezone }));
        return Promise.resolve(fireSchedule(schedule, ctx.scheduledAt, cursor as ScheduleCursor | undefined));
      },
    },
  },
};
