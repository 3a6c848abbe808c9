// An AREA's optional condition (areas.condition): a JSON Logic rule over the action's outputs, such as
// {"==": [{"var": "body.action"}, "opened"]}. The reactions run only when it is truthy.
import jsonLogic from "json-logic-js";
import { PermanentError } from "./errors.ts";

// The operators of the JSON Logic spec. json-logic-js also has "log", left out: it writes to the
// worker's stdout. Checking every operator up front makes a bad rule fail whatever the data, where
// json-logic-js only fails on the branches it happens to evaluate.
const OPERATORS = new Set([
  "var",
  "missing",
  "missing_some",
  "if",
  "?:",
  "==",
  "===",
  "!=",
  "!==",
  "!",
  "!!",
  "or",
  "and",
  ">",
  ">=",
  "<",
  "<=",
  "max",
  "min",
  "+",
  "-",
  "*",
  "/",
  "%",
  "in",
  "cat",
  "substr",
  "merge",
  "map",
  "filter",
  "reduce",
  "all",
  "none",
  "some",
]);
// Operators whose second argument runs once per item, with the item as data: its vars name item
// fields (or reduce's "current" and "accumulator"), not outputs.
const PER_ITEM_OPERATORS = new Set(["map", "filter", "reduce", "all", "none", "some"]);

type Rule = Record<string, unknown>;

function isRule(value: unknown): value is Rule {
  return jsonLogic.is_logic(value);
}

/** Adds the output names an operator reads by name (var, missing, missing_some) to `names`. */
function addNames(operator: string, args: unknown[], names: Set<string>): void {
  const literal = (name: unknown) => (typeof name === "string" && name !== "") || typeof name === "number";
  let read: unknown[] = [];
  if (operator === "var") read = args.slice(0, 1);
  if (operator === "missing") read = Array.isArray(args[0]) ? args[0] : args;
  if (operator === "missing_some" && Array.isArray(args[1])) read = args[1];
  for (const name of read.filter(literal)) names.add(String(name));
}

/** Throws on an unknown operator anywhere in `rule`; collects into `names` the outputs it reads, when given. */
function walk(rule: unknown, names: Set<string> | null): void {
  if (Array.isArray(rule)) {
    for (const item of rule) walk(item, names);
    return;
  }
  if (!isRule(rule)) return; // a literal
  const [operator, value] = Object.entries(rule)[0];
  if (!OPERATORS.has(operator)) throw new PermanentError(`unknown operator "${operator}"`);
  const args = Array.isArray(value) ? value : [value]; // {"var": "x"} is short for {"var": ["x"]}
  if (names) addNames(operator, args, names);
  if (PER_ITEM_OPERATORS.has(operator)) {
    walk(args[0], names);
    walk(args[1], null);
    walk(args.slice(2), names);
  } else {
    walk(args, names);
  }
}

/** `condition` as a rule, checked all through; `names` as in walk(). */
function checkedRule(condition: unknown, names: Set<string> | null): Rule {
  if (!isRule(condition)) {
    throw new PermanentError(
      'must be a JSON Logic rule, an object with one operator, such as {"==": [{"var": "body.action"}, "opened"]}',
    );
  }
  walk(condition, names);
  return condition;
}

/**
 * True when `condition` holds over `outputs` (JSON Logic truthiness: 0, "", null and [] are false);
 * no condition (null) always holds. Throws PermanentError for a rule that is not valid JSON Logic.
 */
export function evaluateCondition(condition: unknown, outputs: Record<string, unknown>): boolean {
  if (condition === null || condition === undefined) return true;
  const rule = checkedRule(condition, null);
  try {
    return jsonLogic.truthy(jsonLogic.apply(rule, outputs));
  } catch (error) {
    throw new PermanentError((error as Error).message, { cause: error });
  }
}

/**
 * The output paths `condition` reads (`var` names, as "body.action", and `missing` keys), in order of
 * appearance, to check them against the action's outputs. Throws like evaluateCondition().
 */
export function conditionVariables(condition: unknown): string[] {
  const names = new Set<string>();
  checkedRule(condition, names);
  return [...names];
}
