// Reaction params rendered from {{placeholders}} over the action's outputs, with Liquid.
//
// Placeholders are what the SQL validator accepts: {{name}} or {{name.path.segments}}, segments of
// [A-Za-z0-9_-]. Each is rewritten to bracket access ({{ name["path"]["segments"] }}) before Liquid
// reads it: Liquid's dotted syntax takes a segment ending in "-" next to "}}" for whitespace control,
// brackets read every segment as a plain key (an array index too: {{body.items.0}}).
import { Liquid, type Template } from "liquidjs";
import { PermanentError } from "./errors.ts";

const PATH = String.raw`[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*`;
const PLACEHOLDER = new RegExp(String.raw`\{\{\s*(${PATH})\s*\}\}`, "g");
const WHOLE_PLACEHOLDER = new RegExp(String.raw`^\{\{\s*(${PATH})\s*\}\}$`);
const CACHE_SIZE = 1000;

/** A value as text inside a longer string: JSON for objects and arrays, nothing for null and undefined. */
function asText(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

const liquid = new Liquid({
  // An empty in-memory file system: no template can read a file, whatever the runtime.
  templates: {},
  // Every output goes through asText, which also means no HTML escaping.
  outputEscape: asText,
  strictFilters: true,
  ownPropertyOnly: true,
  // Limits against a param written to burn the worker (a loop over a huge range).
  parseLimit: 100_000,
  renderLimit: 1_000,
  memoryLimit: 10_000_000,
});
// Tags that load other templates have nothing to load: make them parse errors that say so.
for (const tag of ["include", "render", "layout"]) delete liquid.tags[tag];

function bracketAccess(path: string): string {
  const [name, ...segments] = path.split(".");
  return name + segments.map((segment) => `["${segment}"]`).join("");
}

// Parsed templates, least recently used first (a Map iterates in insertion order).
const parsed = new Map<string, Template[]>();

function parse(source: string): Template[] {
  let templates = parsed.get(source);
  if (templates) {
    parsed.delete(source);
  } else {
    templates = liquid.parse(source.replace(PLACEHOLDER, (_, path: string) => `{{ ${bracketAccess(path)} }}`));
    if (parsed.size >= CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
  }
  parsed.set(source, templates);
  return templates;
}

function renderString(source: string, outputs: Record<string, unknown>, at: string): unknown {
  if (!source.includes("{")) return source;
  try {
    // A string that is one placeholder keeps the value's type, so json params receive structured data.
    const whole = WHOLE_PLACEHOLDER.exec(source);
    if (whole) {
      const value = liquid.evalValueSync(bracketAccess(whole[1]), outputs);
      return value === undefined ? "" : value;
    }
    return liquid.renderSync(parse(source), outputs);
  } catch (error) {
    throw new PermanentError(`${at || "template"}: ${(error as Error).message}`, { cause: error });
  }
}

function render(value: unknown, outputs: Record<string, unknown>, at: string): unknown {
  if (typeof value === "string") return renderString(value, outputs, at);
  if (Array.isArray(value)) return value.map((item, index) => render(item, outputs, `${at}[${index}]`));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, render(item, outputs, at ? `${at}.${key}` : key)]),
    );
  }
  return value;
}

/**
 * Renders every string in `params` (a JSON value; object keys are kept as they are) over the action's
 * `outputs`. A string that is exactly one placeholder becomes the raw value (a missing one: ""); inside
 * a longer string, objects and arrays render as JSON, null and missing values as nothing. Throws
 * PermanentError, naming the param, when a string is not a valid template.
 */
export function renderParams(params: unknown, outputs: Record<string, unknown>): unknown {
  return render(params, outputs, "");
}
