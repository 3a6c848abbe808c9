// The one error shape of every function: {"error":{"code","message","details"}}.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { log } from "./log.ts";

export class ApiError extends Error {
  status: ContentfulStatusCode;
  code: string;
  details?: unknown;
  /** Response headers beyond the defaults (a 503's own Retry-After). */
  headers?: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    details?: unknown,
    headers?: Record<string, string>,
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/** What to tell a client to wait (Retry-After) when a provider asked us to: its own wait, else 5 s; never 0. */
export const providerRetryAfterSeconds = (error: { retryAfterSeconds?: number }): number =>
  Math.max(1, Math.ceil(error.retryAfterSeconds ?? 5));

/** A field path as the SQL validation functions write it: `reactions[0].params.url`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => typeof key === "number" ? `${text}[${key}]` : text === "" ? String(key) : `${text}.${String(key)}`,
    "",
  );
}

/** zod issues as 422 details: one {path, rule, message} per issue, paths written like the SQL ones. */
export function validationError(error: ZodError, prefix: readonly PropertyKey[] = []): ApiError {
  const issues = error.issues.map((issue) => ({
    path: fieldPath([...prefix, ...issue.path]),
    rule: issue.code,
    message: issue.message,
  }));
  const first = issues[0];
  const message = first ? (first.path ? `${first.path}: ${first.message}` : first.message) : "Invalid request";
  return new ApiError(422, "validation_failed", message, { issues });
}

/** What a Postgres error (SQLSTATE) means for an API client. */
const SQLSTATES: Record<string, [ContentfulStatusCode, string]> = {
  "22023": [422, "validation_failed"], // private.reject(): a definition broke a catalogue rule
  "22P02": [422, "validation_failed"], // a value of the wrong type
  "22001": [422, "validation_failed"], // too long
  "23502": [422, "validation_failed"], // missing
  "23514": [422, "validation_failed"], // a check constraint
  "23503": [422, "validation_failed"], // a reference to nothing
  "23505": [409, "conflict"],
  "55000": [409, "conflict"], // not in the state the operation needs (a replay of a running execution)
  P0002: [404, "not_found"],
  "42501": [403, "forbidden"], // also RLS refusing a write
  "40001": [503, "retry"], // serialization failure: safe to retry
  "40P01": [503, "retry"], // deadlock: safe to retry
  "57014": [503, "database_unavailable"], // statement timeout
};

interface PostgresLikeError {
  code?: string;
  message: string;
  detail?: string;
}

/**
 * A database error as an ApiError: validation failures keep their message and `{path, rule}`
 * details, a lost connection is a 503, anything unexpected stays a 500 (logged, not shown).
 */
export function fromDatabaseError(error: unknown): ApiError | null {
  const pgError = error as PostgresLikeError;
  if (typeof pgError?.code !== "string") return null;
  if (/^08|^53|^57P0|^ECONN|^CONNECT_TIMEOUT|^CONNECTION_/.test(pgError.code)) {
    return new ApiError(503, "database_unavailable", "The database is not reachable right now: retry shortly");
  }
  const known = SQLSTATES[pgError.code];
  if (!known) return null;
  let details: unknown;
  try {
    details = pgError.detail ? JSON.parse(pgError.detail) : undefined;
  } catch {
    details = undefined; // a constraint's own detail may name other rows' values: never shown
  }
  const [status, code] = known;
  // private.reject() names one field: the same {issues: [...]} shape as zod's answers.
  const rejected = details as { path?: unknown; rule?: unknown } | undefined;
  if (typeof rejected?.path === "string" && typeof rejected.rule === "string") {
    const message = pgError.message.startsWith(`${rejected.path}: `)
      ? pgError.message.slice(rejected.path.length + 2)
      : pgError.message;
    details = { issues: [{ path: rejected.path, rule: rejected.rule, message }] };
  }
  return new ApiError(status, code, pgError.message, details);
}

/** Hono onError: known errors keep their status; anything else is a 500 whose stack goes to the log only. */
export function handleError(error: Error, c: Context): Response {
  const known = error instanceof ApiError ? error : fromDatabaseError(error);
  if (known) {
    const headers: Record<string, string> = known.status === 503 ? { "retry-after": "5" } : {};
    if (known.status === 401) headers["www-authenticate"] = 'Bearer realm="area"';
    Object.assign(headers, known.headers);
    return c.json(errorBody(known.code, known.message, known.details), known.status, headers);
  }
  if (error instanceof HTTPException) {
    // Hono's own refusals (a malformed JSON body, …): their status, in our envelope.
    const status = error.status as ContentfulStatusCode;
    return c.json(errorBody(status === 400 ? "bad_request" : "http_error", error.message), status);
  }
  const requestId = c.res.headers.get("x-request-id") ?? c.req.header("x-request-id");
  log.error("unhandled error", { requestId, path: c.req.path, error: error.stack ?? String(error) });
  return c.json(errorBody("internal", "Internal error", { requestId }), 500);
}
