import { RRuleTemporal } from "rrule-temporal";
import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import {
  fireSchedule,
  isTimeZone,
  type LatestOccurrence,
  type ScheduleCursor,
  scheduleOutputs,
  timeZoneParam,
} from "../../schedule.ts";

// RFC 5545 §3.3.10 recur-rule-parts (and RFC 7529's RSCALE and SKIP), with the range of the numeric
// BYxxx lists. rrule-temporal checks FREQ, BYDAY, COUNT, INTERVAL and UNTIL itself, but ignores an
// unknown part or an out-of-range number (BYHOUR=25) where a user needs to hear about the typo.
const LIST_RANGES: Record<string, [number, number]> = {
  BYSECOND: [0, 60],
  BYMINUTE: [0, 59],
  BYHOUR: [0, 23],
  BYMONTHDAY: [-31, 31],
  BYYEARDAY: [-366, 366],
  BYWEEKNO: [-53, 53],
  BYMONTH: [1, 12],
  BYSETPOS: [-366, 366],
};
const OTHER_PARTS = new Set(["FREQ", "UNTIL", "COUNT", "INTERVAL", "BYDAY", "WKST", "RSCALE", "SKIP"]);
/** A rule that matches no date makes the library give up after this many periods. */
const NEVER_MATCHES = /^Maximum (iterations|candidate evaluations)/;

/** The rule without its optional `RRULE:` name, upper-cased as the grammar is. */
const ruleText = (rule: string) => rule.trim().replace(/^RRULE:/i, "").toUpperCase();

/** `2026-01-05T09:00` → `20260105T090000` (fractions of a second dropped). */
function dtstart(start: string): string {
  const [, date, hour, minute, second] = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(start)!;
  return `${date.replaceAll("-", "")}T${hour}${minute}${second ?? "00"}`;
}

/** The rule from DTSTART in the time zone; throws the library's error when it refuses the rule. */
function recurrence(rule: string, start: string, timezone: string): RRuleTemporal {
  return new RRuleTemporal({
    rruleString: `DTSTART;TZID=${timezone}:${dtstart(start)}\nRRULE:${ruleText(rule)}`,
    strict: true,
  });
}

/** What is wrong with the rule's text, or null. */
function syntaxProblem(rule: string): string | null {
  const seen = new Set<string>();
  for (const part of ruleText(rule).split(";")) {
    const [name, value, extra] = part.split("=");
    if (!name || value === undefined || extra !== undefined) return `"${part}" is not a NAME=VALUE part`;
    if (seen.has(name)) return `${name} appears twice`;
    seen.add(name);
    const range = LIST_RANGES[name];
    if (!range) {
      if (!OTHER_PARTS.has(name)) return `unknown part ${name}`;
      continue;
    }
    for (const item of value.split(",")) {
      // A leap month of another calendar (RFC 7529: BYMONTH=5L) only with RSCALE, left to the library.
      const number = /^[+-]?\d{1,3}L?$/.test(item) ? Number.parseInt(item, 10) : Number.NaN;
      if (Number.isNaN(number) || number < range[0] || number > range[1] || (range[0] < 0 && number === 0)) {
        const allowed = range[0] < 0 ? `1 to ${range[1]} or -1 to ${range[0]}` : `${range[0]} to ${range[1]}`;
        return `${name} takes ${allowed}, not ${item}`;
      }
    }
  }
  return seen.has("FREQ") ? null : "FREQ is required";
}

/** Why the rule cannot run from `start`, or null. */
function ruleProblem(rule: string, start: string, timezone: string): string | null {
  const syntax = syntaxProblem(rule);
  if (syntax) return syntax;
  try {
    return recurrence(rule, start, timezone).next(new Date(0), true) ? null : "it has no occurrence from start on";
  } catch (error) {
    const message = (error as Error).message;
    return NEVER_MATCHES.test(message) ? "it never matches a date" : message;
  }
}

// Typed `date` in the catalogue: zod's JSON Schema has no `date-time` format for times without an offset.
const startParam = z.iso.datetime({ local: true }).refine((start) => !/Z$/i.test(start), {
  error: "must be a local date-time without offset: it is read in timezone",
}).meta({
  "x-area-type": "date",
  description: "The first occurrence (DTSTART), a local date-time read in timezone; unset BYHOUR/BYMINUTE/… take " +
    "its values",
  placeholder: "2026-01-05T09:00:00",
});

const rruleParams = z.object({
  rule: z.string().meta({
    description: "iCalendar recurrence rule (RFC 5545 RRULE), read from start in timezone",
    placeholder: "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0",
  }),
  start: startParam,
  timezone: timeZoneParam("IANA time zone the rule and its start are read in"),
}).superRefine(({ rule, start, timezone }, ctx) => {
  // The rule is checked with its start and zone (an UNTIL before start, a rule that matches no date).
  if (!isTimeZone(timezone) || !startParam.safeParse(start).success) return;
  const problem = ruleProblem(rule, start, timezone);
  if (problem) ctx.addIssue({ code: "custom", path: ["rule"], message: `not a recurrence rule: ${problem}` });
});

type RruleParams = z.output<typeof rruleParams>;

function latestOccurrence(rule: RRuleTemporal): LatestOccurrence {
  return (instant) => {
    const occurrence = rule.previous(instant, true);
    return occurrence ? new Date(occurrence.epochMilliseconds) : null;
  };
}

export const rrule: ActionDefinition = {
  key: "rrule",
  name: "On an iCalendar recurrence",
  description: "Fires on an iCalendar recurrence rule (RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;" +
    "BYMINUTE=0) from a start date-time, in a time zone. Like the cron schedule it is checked every minute and fires " +
    "at most once per check: after downtime only the latest missed occurrence fires. A rule with COUNT or UNTIL " +
    "stops firing after its last occurrence.",
  params: rruleParams,
  outputs: scheduleOutputs,
  sample: { fired_at: "2026-01-05T08:00:00.000Z", count: 1 },
  trigger: {
    polling: {
      minIntervalSeconds: 60,
      defaultIntervalSeconds: 60,
      // The engine hands poll() the params parsed by rruleParams: checked, with the default time zone.
      poll(ctx, params, cursor) {
        const { rule, start, timezone } = params as RruleParams;
        const schedule = latestOccurrence(recurrence(rule, start, timezone));
        return Promise.resolve(fireSchedule(schedule, ctx.scheduledAt, cursor as ScheduleCursor | undefined));
      },
    },
  },
};
