// Calls made together share one round trip; later calls wait for a free slot and then go out
// together; one item's refused data fails only that item.
import assert from "node:assert/strict";
import { test } from "node:test";
import { refusedData } from "@area/nodes/errors";
import { coalesce } from "../src/coalesce.ts";

/** A `run` that records the groups it is given and answers each item doubled, after a turn. */
function recorder() {
  const calls: number[][] = [];
  const run = async (items: number[]) => {
    calls.push(items);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return items.map((item) => item * 2);
  };
  return { calls, run };
}

test("calls made in the same turn travel together, each gets its own answer", async () => {
  const { calls, run } = recorder();
  const double = coalesce(run, { slots: 2, maxItems: 10 });
  assert.deepEqual(await Promise.all([1, 2, 3].map(double)), [2, 4, 6]);
  assert.deepEqual(calls, [[1, 2, 3]]);
});

test("at most maxItems per call", async () => {
  const { calls, run } = recorder();
  const double = coalesce(run, { slots: 5, maxItems: 2 });
  assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map(double)), [2, 4, 6, 8, 10]);
  assert.deepEqual(calls, [[1, 2], [3, 4], [5]]);
});

test("while every slot is busy, calls queue and the next free slot takes them all", async () => {
  const { calls, run } = recorder();
  const double = coalesce(run, { slots: 1, maxItems: 10 });
  const first = double(1);
  await new Promise((resolve) => setImmediate(resolve)); // the first call is on its way
  const later = [double(2), double(3)];
  await new Promise((resolve) => setImmediate(resolve));
  const last = double(4);
  assert.deepEqual(await Promise.all([first, ...later, last]), [2, 4, 6, 8]);
  assert.deepEqual(calls, [[1], [2, 3, 4]]);
});

test("a call refused for its data is tried again item by item: only the bad item fails", async () => {
  const calls: number[][] = [];
  const refusal = Object.assign(new Error("invalid input syntax"), { code: "22P02", severity: "ERROR" });
  const check = coalesce((items: number[]) => {
    calls.push(items);
    return items.includes(13) ? Promise.reject(refusal) : Promise.resolve(items.map(() => "ok"));
  }, { slots: 2, maxItems: 10, retrySingly: refusedData });
  const results = await Promise.allSettled([1, 13, 2].map(check));
  assert.deepEqual(results.map((result) => result.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.deepEqual(calls, [[1, 13, 2], [1], [13], [2]]);
});

test("a database failing as a whole fails every item at once, without retries", async () => {
  let calls = 0;
  const down = Object.assign(new Error("connection terminated"), { code: "57P01", severity: "FATAL" });
  const check = coalesce((_items: number[]) => {
    calls++;
    return Promise.reject(down);
  }, { slots: 2, maxItems: 10, retrySingly: refusedData });
  const results = await Promise.allSettled([1, 2, 3].map(check));
  assert.ok(results.every((result) => result.status === "rejected" && result.reason === down));
  assert.equal(calls, 1);
  assert.equal(refusedData(new Error("socket hang up")), false, "an error without an SQLSTATE is not the data's fault");
});
