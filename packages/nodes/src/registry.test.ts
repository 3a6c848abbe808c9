// The registry: shipped services, the bench flag, and node lookups.
import assert from "node:assert/strict";
import { test } from "node:test";
import { enabledServices, findAction, findReaction, services } from "./registry.ts";

test("the bench nodes are enabled only by AREA_ENABLE_BENCH_NODES=1", () => {
  assert.deepEqual(enabledServices({}), services);
  assert.deepEqual(enabledServices({ AREA_ENABLE_BENCH_NODES: "true" }), services);
  assert.deepEqual(enabledServices({ AREA_ENABLE_BENCH_NODES: "1" }).map((service) => service.key), [
    ...services.map((service) => service.key),
    "bench",
  ]);
});

test("actions and reactions are found by service and node key among the enabled services", () => {
  assert.equal(findAction(services, "timer", "cron")?.key, "cron");
  assert.equal(findReaction(services, "http", "request")?.key, "request");
  assert.equal(findAction(services, "http", "request"), undefined, "a reaction is not an action");
  assert.equal(findAction(services, "bench", "noop"), undefined);
  assert.equal(findReaction(enabledServices({ AREA_ENABLE_BENCH_NODES: "1" }), "bench", "noop")?.key, "noop");
});
