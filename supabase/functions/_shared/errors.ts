// The one error shape of every function: {"error":{"code","message","details"}}.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { log } from "./log.ts";

export class ApiError extends Error {
  status: ContentfulStatusCode;
  code: string;
  details?: unknown;

  constructor(status: ContentfulStatusCode, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/** Hono onError: known errors keep their status; anything else is a 500 whose stack goes to the log only. */
export function handleError(error: Error, c: Context): Response {
  if (error instanceof ApiError) return c.json(errorBody(error.code, error.message, error.details), error.status);
  const requestId = c.res.headers.get("x-request-id") ?? c.req.header("x-request-id");
  log.error("unhandled error", { requestId, path: c.req.path, error: error.stack ?? String(error) });
  return c.json(errorBody("internal", "Internal error", { requestId }), 500);
}
