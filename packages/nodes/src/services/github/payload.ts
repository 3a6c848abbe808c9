// Reading GitHub webhook payloads. Their shapes are documented, but a field may be missing or null (an
// issue without a body, a deleted account): these readers answer a plain default rather than throw,
// as events() runs inside the webhook request.
// https://docs.github.com/en/webhooks/webhook-events-and-payloads

/** The value at a dotted path (`pull_request.user.login`), or undefined when a step is missing. */
export { valueAt as at } from "../../json.ts";

/** A string field as text (a number written out); "" when missing or null. */
export function text(value: unknown): string {
  if (typeof value === "string") return value;
  return typeof value === "number" ? String(value) : "";
}

/** A whole number field; 0 when missing. */
export function whole(value: unknown): number {
  return typeof value === "number" && Number.isSafeInteger(value) ? value : 0;
}

/** A boolean field; false when missing. */
export function flag(value: unknown): boolean {
  return value === true;
}
