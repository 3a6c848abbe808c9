// Telling a JSON object (a record) from the other JSON values: arrays, null, strings, numbers, booleans.

/** True for a non-null object that is not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value as a JSON object (a parsed body, a nested field), else null. */
export function jsonObject(value: unknown): Record<string, unknown> | null {
  return isJsonObject(value) ? value : null;
}
