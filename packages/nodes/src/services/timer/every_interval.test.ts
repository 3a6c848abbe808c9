// The interval timer: one event per scheduled poll, counted from the cursor.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PollContext } from "../../define.ts";
import { everyInterval } from "./every_interval.ts";

const polling = everyInterval.trigger.polling!;
const at = (scheduledAt: string) => ({ scheduledAt: new Date(scheduledAt) }) as PollContext;

test("the baseline poll fires nothing and starts the count; each later poll fires once, at its slot", async () => {
  const baseline = await polling.poll(at("2026-01-01T12:00:00Z"), { seconds: 30 }, undefined);
  assert.deepEqual(baseline, { events: [], cursor: { count: 0 } });

  const first = await polling.poll(at("2026-01-01T12:00:30Z"), { seconds: 30 }, baseline.cursor);
  assert.deepEqual(first.events, [{
    dedupeKey: "2026-01-01T12:00:30.000Z",
    outputs: { fired_at: "2026-01-01T12:00:30.000Z", count: 1 },
  }]);

  const second = await polling.poll(at("2026-01-01T12:01:00Z"), { seconds: 30 }, first.cursor);
  assert.deepEqual(second.events[0].outputs, { fired_at: "2026-01-01T12:01:00.000Z", count: 2 });
  assert.deepEqual(second.cursor, { count: 2 });
});
