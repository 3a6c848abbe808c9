// What every schedule-driven polling trigger shares (the cron, rrule and date timers, the daily
// forecast): "the latest occurrence not yet fired" against a cursor, the baseline, the time zone
// param and the outputs of a timer. Each trigger only says how to find its latest occurrence.
import type { Cron } from "croner";
import { z } from "zod";
import type { PollResult } from "./define.ts";

/** The latest occurrence fired (or the baseline instant), and how many fired since the AREA was last enabled. */
export type ScheduleCursor = { last: string; count: number };

/** The latest occurrence at or before `instant`, or null when there is none (yet). */
export type LatestOccurrence = (instant: Date) => Date | null;

/** The first poll after enabling stores this: occurrences up to now never fire. */
export function baselineCursor(scheduledAt: Date): ScheduleCursor {
  return { last: scheduledAt.toISOString(), count: 0 };
}

/**
 * The occurrence a poll at `scheduledAt` must fire, or null: the latest one at or before it, when it
 * is later than the cursor's. At most one per poll, so after downtime only the latest missed
 * occurrence fires, and a schedule finer than the polling interval fires once a poll.
 */
export function dueOccurrence(latest: LatestOccurrence, scheduledAt: Date, cursor: ScheduleCursor): Date | null {
  const occurrence = latest(scheduledAt);
  return occurrence && occurrence.getTime() > Date.parse(cursor.last) ? occurrence : null;
}

/** A timer's poll: the baseline, then one event with `fired_at` and `count` for each due occurrence. */
export function fireSchedule(
  latest: LatestOccurrence,
  scheduledAt: Date,
  cursor: ScheduleCursor | undefined,
): PollResult {
  if (cursor === undefined) return { events: [], cursor: baselineCursor(scheduledAt) };
  const occurrence = dueOccurrence(latest, scheduledAt, cursor);
  if (!occurrence) return { events: [] };
  const firedAt = occurrence.toISOString();
  const count = cursor.count + 1;
  return {
    events: [{ dedupeKey: firedAt, outputs: { fired_at: firedAt, count } }],
    cursor: { last: firedAt, count } satisfies ScheduleCursor,
  };
}

/** A croner schedule's latest run at or before an instant (previousRuns() looks strictly before its reference). */
export function latestCronRun(cron: Cron): LatestOccurrence {
  return (instant) => cron.previousRuns(1, new Date(instant.getTime() + 1))[0] ?? null;
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone param, `UTC` unless given. */
export function timeZoneParam(description: string) {
  return z.string().refine(isTimeZone, { error: "not a time zone: use an IANA name such as Europe/Paris" })
    .default("UTC").meta({ description, placeholder: "Europe/Paris" });
}

/** The outputs of the schedule timers (cron, rrule, at a date). */
export const scheduleOutputs = z.object({
  fired_at: z.iso.datetime().meta({ description: "The scheduled occurrence that fired (UTC)" }),
  count: z.number().int().meta({
    description: "How many times the schedule has fired since the AREA was last enabled, this time included",
  }),
});
