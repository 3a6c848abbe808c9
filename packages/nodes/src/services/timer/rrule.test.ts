// The RRULE timer: the latest occurrence since the cursor, from DTSTART in the rule's time zone.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PollContext } from "../../define.ts";
import { rrule } from "./rrule.ts";

const polling = rrule.trigger.polling!;
const at = (scheduledAt: string) => ({ scheduledAt: new Date(scheduledAt) }) as PollContext;
// The engine parses params with the action's schema before poll(), which applies the default time zone.
const schedule = (params: Record<string, unknown>) => rrule.params.parse(params) as Record<string, unknown>;
// Mondays and Wednesdays at 09:00 in Paris: 08:00Z in winter, 07:00Z from the switch to summer time (2026-03-29).
const mondaysAndWednesdays = schedule({
  rule: "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0",
  start: "2026-01-05T09:00:00",
  timezone: "Europe/Paris",
});

test("the baseline poll fires nothing and remembers when it ran", async () => {
  assert.deepEqual(await polling.poll(at("2026-01-05T07:59:30Z"), mondaysAndWednesdays, undefined), {
    events: [],
    cursor: { last: "2026-01-05T07:59:30.000Z", count: 0 },
  });
});

test("an occurrence fires once, at the scheduled instant, on the first poll after it", async () => {
  const cursor = { last: "2026-01-05T07:59:30.000Z", count: 0 };
  const before = await polling.poll(at("2026-01-05T07:59:59Z"), mondaysAndWednesdays, cursor);
  assert.deepEqual(before, { events: [] }, "nothing yet; the cursor is kept");

  const due = await polling.poll(at("2026-01-05T08:00:00Z"), mondaysAndWednesdays, cursor);
  assert.deepEqual(due, {
    events: [{ dedupeKey: "2026-01-05T08:00:00.000Z", outputs: { fired_at: "2026-01-05T08:00:00.000Z", count: 1 } }],
    cursor: { last: "2026-01-05T08:00:00.000Z", count: 1 },
  });
  const again = await polling.poll(at("2026-01-05T08:00:59Z"), mondaysAndWednesdays, due.cursor);
  assert.deepEqual(again.events, [], "an occurrence already fired does not fire again");
  const tuesday = await polling.poll(at("2026-01-06T08:00:20Z"), mondaysAndWednesdays, due.cursor);
  assert.deepEqual(tuesday.events, [], "Tuesday is not in BYDAY");
  const wednesday = await polling.poll(at("2026-01-07T08:00:20Z"), mondaysAndWednesdays, due.cursor);
  assert.deepEqual(wednesday.events[0].outputs, { fired_at: "2026-01-07T08:00:00.000Z", count: 2 });
});

test("after downtime only the latest missed occurrence fires", async () => {
  const result = await polling.poll(at("2026-01-16T12:00:00Z"), mondaysAndWednesdays, {
    last: "2026-01-05T08:00:00.000Z",
    count: 1,
  });
  // Missed: Wed 7, Mon 12, Wed 14; only the 14th fires.
  assert.deepEqual(result.events.map((event) => event.outputs), [{ fired_at: "2026-01-14T08:00:00.000Z", count: 2 }]);
});

test("the local time holds across a DST change", async () => {
  const cursor = { last: "2026-03-25T08:00:00.000Z", count: 10 };
  const early = await polling.poll(at("2026-03-30T06:59:30Z"), mondaysAndWednesdays, cursor);
  assert.deepEqual(early.events, [], "08:59 in Paris, summer time");
  const monday = await polling.poll(at("2026-03-30T07:00:30Z"), mondaysAndWednesdays, cursor);
  assert.deepEqual(monday.events[0].outputs, { fired_at: "2026-03-30T07:00:00.000Z", count: 11 });
});

test("COUNT and UNTIL end the schedule; INTERVAL counts from the start", async () => {
  const twice = schedule({ rule: "RRULE:FREQ=DAILY;COUNT=2", start: "2026-01-05T09:00" });
  const second = await polling.poll(at("2026-01-06T09:00:10Z"), twice, { last: "2026-01-05T09:00:00.000Z", count: 1 });
  assert.deepEqual(second.events[0].outputs, { fired_at: "2026-01-06T09:00:00.000Z", count: 2 });
  const after = await polling.poll(at("2026-01-07T09:00:10Z"), twice, second.cursor);
  assert.deepEqual(after.events, []);

  const fortnightly = schedule({
    rule: "freq=weekly;interval=2;byday=mo;until=20260301T000000Z",
    start: "2026-01-05T09:00:00",
    timezone: "America/New_York",
  });
  const cursor = { last: "2026-01-05T14:00:00.000Z", count: 1 };
  assert.deepEqual((await polling.poll(at("2026-01-12T14:00:10Z"), fortnightly, cursor)).events, []);
  const week3 = await polling.poll(at("2026-01-19T14:00:10Z"), fortnightly, cursor);
  assert.equal(week3.events[0].dedupeKey, "2026-01-19T14:00:00.000Z");
  const last = await polling.poll(at("2026-03-20T12:00:00Z"), fortnightly, week3.cursor);
  assert.equal(last.events[0].dedupeKey, "2026-02-16T14:00:00.000Z", "the last one before UNTIL");
  assert.deepEqual((await polling.poll(at("2026-06-01T12:00:00Z"), fortnightly, last.cursor)).events, []);
});

test("params are validated with messages naming the field; the timezone defaults to UTC", () => {
  const problems = (params: Record<string, unknown>) => {
    const result = rrule.params.safeParse({ start: "2026-01-05T09:00:00", ...params });
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  };
  assert.deepEqual(rrule.params.parse({ rule: "FREQ=DAILY", start: "2026-01-05T09:00:00" }), {
    rule: "FREQ=DAILY",
    start: "2026-01-05T09:00:00",
    timezone: "UTC",
  });
  assert.deepEqual(problems({ rule: "FREQ=MONTHLY;BYDAY=-1FR", timezone: "Europe/Paris" }), []);
  assert.deepEqual(problems({ rule: "FREQ=SOMETIMES" }), [
    "rule: not a recurrence rule: Invalid FREQ value: SOMETIMES",
  ]);
  assert.deepEqual(problems({ rule: "BYDAY=MO" }), ["rule: not a recurrence rule: FREQ is required"]);
  assert.deepEqual(problems({ rule: "FREQ=DAILY;BYHOUR=25" }), [
    "rule: not a recurrence rule: BYHOUR takes 0 to 23, not 25",
  ]);
  assert.deepEqual(problems({ rule: "FREQ=MONTHLY;BYMONTHDAY=0" }), [
    "rule: not a recurrence rule: BYMONTHDAY takes 1 to 31 or -1 to -31, not 0",
  ]);
  assert.deepEqual(problems({ rule: "FREQ=DAILY;BYHOURS=9" }), ["rule: not a recurrence rule: unknown part BYHOURS"]);
  assert.deepEqual(problems({ rule: "FREQ=DAILY;FREQ=WEEKLY" }), ["rule: not a recurrence rule: FREQ appears twice"]);
  assert.deepEqual(problems({ rule: "FREQ=WEEKLY;BYDAY=XX" }), [
    "rule: not a recurrence rule: Invalid BYDAY value: XX",
  ]);
  assert.deepEqual(problems({ rule: "FREQ=DAILY;COUNT=2;UNTIL=20270101T000000Z" }), [
    "rule: not a recurrence rule: COUNT and UNTIL MUST NOT occur in the same recurrence rule",
  ]);
  assert.deepEqual(problems({ rule: "FREQ=DAILY;UNTIL=20250101T000000Z" }), [
    "rule: not a recurrence rule: it has no occurrence from start on",
  ]);
  assert.deepEqual(problems({ rule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30" }), [
    "rule: not a recurrence rule: it never matches a date",
  ]);
  assert.deepEqual(problems({ rule: "FREQ=DAILY", timezone: "Mars/Olympus_Mons" }), [
    "timezone: not a time zone: use an IANA name such as Europe/Paris",
  ]);
  assert.deepEqual(problems({ rule: "FREQ=DAILY", start: "2026-01-05T09:00:00Z" }), [
    "start: must be a local date-time without offset: it is read in timezone",
  ]);
  assert.deepEqual(problems({ rule: "FREQ=DAILY", start: "2026-02-30T09:00:00" }), ["start: Invalid ISO datetime"]);
});

test("the catalogue types start as a date", async () => {
  const { fieldRows } = await import("../../catalogue.ts");
  assert.deepEqual(fieldRows(rrule.params).map((row) => [row.name, row.type, row.required, row.default_value]), [
    ["rule", "string", true, null],
    ["start", "date", true, null],
    ["timezone", "string", false, "UTC"],
  ]);
});
