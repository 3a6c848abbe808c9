// The cron timer: the latest occurrence since the cursor, in the schedule's time zone.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PollContext } from "../../define.ts";
import { cron } from "./cron.ts";

const polling = cron.trigger.polling!;
const at = (scheduledAt: string) => ({ scheduledAt: new Date(scheduledAt) }) as PollContext;
// The engine parses params with the action's schema before poll(), which applies the default time zone.
const schedule = (params: Record<string, unknown>) => cron.params.parse(params) as Record<string, unknown>;

test("the baseline poll fires nothing and remembers when it ran", async () => {
  assert.deepEqual(await polling.poll(at("2026-01-05T07:59:30Z"), schedule({ expression: "0 8 * * *" }), undefined), {
    events: [],
    cursor: { last: "2026-01-05T07:59:30.000Z", count: 0 },
  });
});

test("an occurrence fires once, at the scheduled instant, on the first poll after it", async () => {
  const params = schedule({ expression: "0 8 * * *" });
  const cursor = { last: "2026-01-05T07:59:30.000Z", count: 0 };
  const before = await polling.poll(at("2026-01-05T07:59:59Z"), params, cursor);
  assert.deepEqual(before, { events: [] }, "nothing yet; the cursor is kept");

  const due = await polling.poll(at("2026-01-05T08:00:00Z"), params, cursor);
  assert.deepEqual(due, {
    events: [{ dedupeKey: "2026-01-05T08:00:00.000Z", outputs: { fired_at: "2026-01-05T08:00:00.000Z", count: 1 } }],
    cursor: { last: "2026-01-05T08:00:00.000Z", count: 1 },
  });
  const again = await polling.poll(at("2026-01-05T08:00:59Z"), params, due.cursor);
  assert.deepEqual(again.events, [], "an occurrence already fired does not fire again");
});

test("after downtime only the latest missed occurrence fires", async () => {
  const result = await polling.poll(at("2026-01-05T12:34:10Z"), schedule({ expression: "*/15 * * * *" }), {
    last: "2026-01-05T09:00:00.000Z",
    count: 4,
  });
  assert.deepEqual(result.events.map((event) => event.outputs), [{ fired_at: "2026-01-05T12:30:00.000Z", count: 5 }]);
});

test("a schedule in a non-UTC time zone fires at the local time across a DST change", async () => {
  // 09:00 in New York is 14:00Z before the switch to summer time on 2026-03-08, 13:00Z after it.
  const params = schedule({ expression: "0 9 * * *", timezone: "America/New_York" });
  const saturday = await polling.poll(at("2026-03-07T14:00:20Z"), params, {
    last: "2026-03-06T14:00:00.000Z",
    count: 1,
  });
  assert.equal(saturday.events[0].dedupeKey, "2026-03-07T14:00:00.000Z");

  const sundayEarly = await polling.poll(at("2026-03-08T12:59:20Z"), params, saturday.cursor);
  assert.deepEqual(sundayEarly.events, []);
  const sunday = await polling.poll(at("2026-03-08T13:00:20Z"), params, saturday.cursor);
  assert.deepEqual(sunday.events[0].outputs, { fired_at: "2026-03-08T13:00:00.000Z", count: 3 });

  // 02:30 does not exist in Paris on 2026-03-29 (02:00 jumps to 03:00): the job runs at 03:00 local, 01:00Z.
  const paris = await polling.poll(
    at("2026-03-29T01:00:30Z"),
    schedule({ expression: "30 2 * * *", timezone: "Europe/Paris" }),
    {
      last: "2026-03-28T01:30:00.000Z",
      count: 0,
    },
  );
  assert.equal(paris.events[0].dedupeKey, "2026-03-29T01:00:00.000Z");
});

test("six fields put seconds first", async () => {
  const result = await polling.poll(at("2026-01-05T08:00:40Z"), schedule({ expression: "30 0 8 * * *" }), {
    last: "2026-01-04T08:00:30.000Z",
    count: 0,
  });
  assert.equal(result.events[0].dedupeKey, "2026-01-05T08:00:30.000Z");
});

test("params are validated with clear messages; the timezone defaults to UTC", () => {
  const problems = (params: unknown) => {
    const result = cron.params.safeParse(params);
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  };
  assert.deepEqual(cron.params.parse({ expression: "0 9 * * 1-5" }), { expression: "0 9 * * 1-5", timezone: "UTC" });
  assert.deepEqual(problems({ expression: "@daily", timezone: "Europe/Paris" }), []);
  assert.deepEqual(problems({ expression: "61 * * * *" }), [
    "expression: not a cron expression: Invalid value for minute: 61",
  ]);
  assert.match(problems({ expression: "* * * *" })[0], /^expression: not a cron expression: .*five, six/);
  assert.match(problems({ expression: "* * * * * * *" })[0], /^expression: not a cron expression: .*5 or 6 parts/);
  assert.deepEqual(problems({ expression: "0 0 30 2 *" }), [
    "expression: not a cron expression: it never matches a date",
  ]);
  assert.deepEqual(problems({ expression: "0 9 * * *", timezone: "Mars/Olympus_Mons" }), [
    "timezone: not a time zone: use an IANA name such as Europe/Paris",
  ]);
});
