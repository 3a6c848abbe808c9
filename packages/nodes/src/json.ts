// Telling a JSON object (a record) from the other JSON values (arrays, null, strings, numbers, booleans),
// and reading into parsed JSON.

/** True for a non-null object that is not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value as a JSON object (a parsed body, a nested field), else null. */
export function jsonObject(value: unknown): Record<string, unknown> | null {
  return isJsonObject(value) ? value : null;
}

/** `text` parsed as JSON when it is an object, else null (not JSON, cut off, or another value). */
export function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    return jsonObject(JSON.parse(text));
  } catch {
    return null;
  }
}

/**
 * The value at a dotted path (`user.login`; an array's items by index: `data.0.id`), or undefined when
 * a step is missing or not an object.
 */
export function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    current = current !== null && typeof current === "object" ? (current as Record<string, unknown>)[key] : undefined;
  }
  return current;
}
