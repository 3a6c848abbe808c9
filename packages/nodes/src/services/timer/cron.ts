import { Cron } from "croner";
import { z } from "zod";
import type { ActionDefinition, PollResult } from "../../define.ts";

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

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
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
  timezone: z.string().refine(isTimeZone, { error: "not a time zone: use an IANA name such as Europe/Paris" })
    .default("UTC").meta({ description: "IANA time zone the expression is read in", placeholder: "Europe/Paris" }),
});

type CronParams = z.output<typeof cronParams>;

/** The latest occurrence fired, and how many fired since the AREA was last enabled. */
type CronCursor = { last: string; count: number };

function fire({ expression, timezone }: CronParams, scheduledAt: Date, cursor: CronCursor | undefined): PollResult {
  // The first poll after enabling is the baseline: occurrences up to now never fire.
  if (cursor === undefined) return { events: [], cursor: { last: scheduledAt.toISOString(), count: 0 } };
  // previousRuns() looks strictly before its reference: 1 ms later includes an occurrence at scheduledAt.
  const [latest] = new Cron(expression, { mode: CRON_MODE, timezone })
    .previousRuns(1, new Date(scheduledAt.getTime() + 1));
  if (!latest || latest.getTime() <= Date.parse(cursor.last)) return { events: [] };
  const firedAt = latest.toISOString();
  const count = cursor.count + 1;
  return {
    events: [{ dedupeKey: firedAt, outputs: { fired_at: firedAt, count } }],
    cursor: { last: firedAt, count } satisfies CronCursor,
  };
}

export const cron: ActionDefinition = {
  key: "cron",
  name: "On a cron schedule",
  description: "Fires on a cron schedule (5 fields, or 6 with seconds first) read in a time zone. The schedule is " +
    "checked every minute and fires at most once per check: after downtime only the latest missed occurrence fires, " +
    "and a schedule finer than a minute fires once a minute.",
  params: cronParams,
  outputs: z.object({
    fired_at: z.iso.datetime().meta({ description: "The scheduled occurrence that fired (UTC)" }),
    count: z.number().int().meta({
      description: "How many times the schedule has fired since the AREA was last enabled, this time included",
    }),
  }),
  sample: { fired_at: "2026-01-05T08:00:00.000Z", count: 1 },
  trigger: {
    polling: {
      minIntervalSeconds: 60,
      defaultIntervalSeconds: 60,
      // The engine hands poll() the params parsed by cronParams: checked, with the default time zone.
      poll: (ctx, params, cursor) =>
        Promise.resolve(fire(params as CronParams, ctx.scheduledAt, cursor as CronCursor | undefined)),
    },
  },
};
