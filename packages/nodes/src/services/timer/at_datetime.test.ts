// The one-off timer: fires once at its instant, never when that instant is before the baseline.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PollContext } from "../../define.ts";
import { fieldRows } from "../../catalogue.ts";
import { atDatetime } from "./at_datetime.ts";

const polling = atDatetime.trigger.polling!;
const at = (scheduledAt: string) => ({ scheduledAt: new Date(scheduledAt) }) as PollContext;
// The engine parses params with the action's schema before poll(), which applies the default time zone.
const params = (values: Record<string, unknown>) => atDatetime.params.parse(values) as Record<string, unknown>;

test("fires once, at its instant, on the first poll after it; never again", async () => {
  const christmasEve = params({ at: "2026-12-24T18:00:00", timezone: "Europe/Paris" });
  const baseline = await polling.poll(at("2026-12-01T10:00:00Z"), christmasEve, undefined);
  assert.deepEqual(baseline, { events: [], cursor: { last: "2026-12-01T10:00:00.000Z", count: 0 } });

  const before = await polling.poll(at("2026-12-24T16:59:30Z"), christmasEve, baseline.cursor);
  assert.deepEqual(before, { events: [] }, "18:00 in Paris is 17:00Z");
  const due = await polling.poll(at("2026-12-24T17:00:30Z"), christmasEve, baseline.cursor);
  assert.deepEqual(due, {
    events: [{ dedupeKey: "2026-12-24T17:00:00.000Z", outputs: { fired_at: "2026-12-24T17:00:00.000Z", count: 1 } }],
    cursor: { last: "2026-12-24T17:00:00.000Z", count: 1 },
  });
  for (const later of ["2026-12-24T17:01:30Z", "2027-12-24T17:00:30Z"]) {
    assert.deepEqual(await polling.poll(at(later), christmasEve, due.cursor), { events: [] });
  }
});

test("a time already past when the AREA is enabled never fires", async () => {
  const past = params({ at: "2026-01-01T00:00:00Z" });
  const baseline = await polling.poll(at("2026-06-01T12:00:00Z"), past, undefined);
  assert.deepEqual(baseline.events, []);
  assert.deepEqual(await polling.poll(at("2026-06-01T12:01:00Z"), past, baseline.cursor), { events: [] });
});

test("an offset wins over the time zone; a local time falling in a DST gap moves forward", async () => {
  const cursor = { last: "2026-01-01T00:00:00.000Z", count: 0 };
  const withOffset = params({ at: "2026-05-01T09:00:00+02:00", timezone: "America/New_York" });
  const fired = await polling.poll(at("2026-05-01T07:00:10Z"), withOffset, cursor);
  assert.equal(fired.events[0].dedupeKey, "2026-05-01T07:00:00.000Z");

  // 02:30 does not exist in Paris on 2026-03-29: it is 03:30 summer time, 01:30Z.
  const gap = params({ at: "2026-03-29T02:30", timezone: "Europe/Paris" });
  assert.deepEqual((await polling.poll(at("2026-03-29T01:29:50Z"), gap, cursor)).events, []);
  const inGap = await polling.poll(at("2026-03-29T01:30:10Z"), gap, cursor);
  assert.equal(inGap.events[0].dedupeKey, "2026-03-29T01:30:00.000Z");
});

test("params are validated with messages naming the field; the catalogue types `at` as a date", () => {
  const problems = (values: unknown) => {
    const result = atDatetime.params.safeParse(values);
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  };
  assert.deepEqual(atDatetime.params.parse({ at: "2026-12-24T18:00" }), { at: "2026-12-24T18:00", timezone: "UTC" });
  assert.deepEqual(problems({ at: "24/12/2026 18:00" }), ["at: Invalid ISO datetime"]);
  assert.deepEqual(problems({ at: "2026-02-30T09:00:00" }), ["at: Invalid ISO datetime"]);
  assert.deepEqual(problems({ at: "2026-12-24T18:00:00", timezone: "Paris" }), [
    "timezone: not a time zone: use an IANA name such as Europe/Paris",
  ]);
  assert.deepEqual(fieldRows(atDatetime.params).map((row) => [row.name, row.type, row.required]), [
    ["at", "date", true],
    ["timezone", "string", false],
  ]);
});
