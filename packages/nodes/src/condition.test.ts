// AREA conditions: JSON Logic rules over the action's outputs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { conditionVariables, evaluateCondition } from "./condition.ts";
import { PermanentError } from "./errors.ts";

const outputs = {
  body: { action: "opened", labels: [{ name: "bug" }, { name: "ui" }], stars: 12, items: ["a", "b"] },
  headers: { "content-type": "application/json" },
};

test("a rule over a dotted output path holds or not", () => {
  assert.equal(evaluateCondition({ "==": [{ var: "body.action" }, "opened"] }, outputs), true);
  assert.equal(evaluateCondition({ "==": [{ var: "body.action" }, "closed"] }, outputs), false);
  assert.equal(evaluateCondition({ "==": [{ var: "body.items.1" }, "b"] }, outputs), true);
  assert.equal(evaluateCondition({ "==": [{ var: "headers.content-type" }, "application/json"] }, outputs), true);
});

test("combinations, comparisons and per-item operators work", () => {
  const rule = {
    and: [
      { ">=": [{ var: "body.stars" }, 10] },
      { some: [{ var: "body.labels" }, { "==": [{ var: "name" }, "bug"] }] },
      { "!": { var: "body.draft" } },
    ],
  };
  assert.equal(evaluateCondition(rule, outputs), true);
  assert.equal(evaluateCondition(rule, { ...outputs, body: { ...outputs.body, stars: 3 } }), false);
});

test("the result is read with JSON Logic truthiness", () => {
  assert.equal(evaluateCondition({ var: "body.items" }, outputs), true);
  assert.equal(evaluateCondition({ var: "body.none" }, outputs), false);
  assert.equal(evaluateCondition({ merge: [] }, outputs), false, "an empty array is false in JSON Logic");
  assert.equal(evaluateCondition({ cat: [""] }, outputs), false);
});

test("no condition always holds", () => {
  assert.equal(evaluateCondition(null, outputs), true);
  assert.equal(evaluateCondition(undefined, outputs), true);
});

test("an unknown operator is a PermanentError naming it, even in a branch that is not evaluated", () => {
  const cases: [unknown, string][] = [
    [{ regex: [{ var: "body.action" }, "^op"] }, "regex"],
    [{ or: [true, { nope: [1] }] }, "nope"],
    [{ log: "json-logic-js has it, AREA does not" }, "log"],
  ];
  for (const [rule, operator] of cases) {
    assert.throws(
      () => evaluateCondition(rule, outputs),
      (error: unknown) => error instanceof PermanentError && error.message === `unknown operator "${operator}"`,
    );
  }
});

test("an object that is not a rule is a PermanentError", () => {
  for (const condition of [{}, { "==": [1, 1], "!=": [1, 2] }, "true", [true]]) {
    assert.throws(
      () => evaluateCondition(condition, outputs),
      (error: unknown) => error instanceof PermanentError && error.message.startsWith("must be a JSON Logic rule"),
    );
  }
});

test("conditionVariables lists the output paths a rule reads, not per-item fields", () => {
  assert.deepEqual(
    conditionVariables({
      and: [
        { "==": [{ var: "body.action" }, "opened"] },
        { some: [{ var: "body.labels" }, { "==": [{ var: "name" }, "bug"] }] },
        {
          reduce: [{ var: "body.items" }, { "+": [{ var: "current" }, { var: "accumulator" }] }, { var: "body.stars" }],
        },
        { missing: ["headers.x-id", "body.action"] },
        { missing_some: [1, ["query.a", "query.b"]] },
        { "==": [{ var: ["body.action", "default"] }, { var: "" }] },
      ],
    }),
    ["body.action", "body.labels", "body.items", "body.stars", "headers.x-id", "query.a", "query.b"],
  );
});

test("conditionVariables rejects what evaluateCondition rejects", () => {
  assert.throws(() => conditionVariables({ and: [{ unknown: [] }] }), PermanentError);
  assert.throws(() => conditionVariables({}), PermanentError);
});
