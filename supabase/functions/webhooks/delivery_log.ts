// Every webhook route writes ONE log line per request, whatever its outcome: shared by the per-hook
// route (app.ts) and the app-level routes (slack.ts).
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorBody } from "../_shared/errors.ts";
import { log } from "../_shared/log.ts";

/** What every route's log line holds, beside its own fields. */
type RequestLog = {
  status?: number;
  error?: string;
};

/**
 * Runs a route's handler and, once it ends, writes `line` with its status: at warn for a 5xx or a
 * throw (the error handler then answers 500), at info otherwise.
 */
export async function withRequestLog(
  message: string,
  line: RequestLog,
  handle: () => Promise<Response>,
): Promise<Response> {
  try {
    const response = await handle();
    line.status = response.status;
    return response;
  } catch (error) {
    line.status = 500;
    line.error = (error as Error).message;
    throw error;
  } finally {
    const level = line.status === undefined || line.status >= 500 ? "warn" : "info";
    log[level](message, line);
  }
}

/** Answers an error in the api's envelope, and notes the outcome in the route's log line. */
export function reject<Outcome extends string>(
  c: Context,
  line: { outcome: Outcome },
  outcome: Outcome,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details?: unknown,
  headers?: Record<string, string>,
): Response {
  line.outcome = outcome;
  return c.json(errorBody(code, message, details), status, headers);
}
