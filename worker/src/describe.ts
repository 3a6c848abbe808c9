// How a failure reads in logs, error_text and last_error: its class and message, bounded.

/** The longest error text stored (error_text, last_error). */
export const MAX_ERROR_TEXT = 2_000;

export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, MAX_ERROR_TEXT);
}
