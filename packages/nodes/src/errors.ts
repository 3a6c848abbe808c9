// How a node says why it failed. The worker maps these to job outcomes:
// retryable → pg-boss retry (or a reschedule at Retry-After), permanent → no retry,
// auth → no retry, the connection is marked needs_reconnect and its AREAs are paused.

/** A transient failure (network, 5xx, 429): try again later. */
export class RetryableError extends Error {
  override name = "RetryableError";
  /** When the provider said when to come back (429/503 Retry-After), in seconds. */
  readonly retryAfterSeconds: number | undefined;
  readonly status: number | undefined;
  /** The headers of the response that said to retry: provider-specific hints (Twitch's Ratelimit-Reset). */
  readonly headers: Headers | undefined;
  constructor(
    message: string,
    options: { retryAfterSeconds?: number; status?: number; cause?: unknown; headers?: Headers } = {},
  ) {
    super(message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.status = options.status;
    this.headers = options.headers;
  }
}

/** A failure that retrying cannot fix (bad params, a 4xx, a refused address). */
export class PermanentError extends Error {
  override name = "PermanentError";
  readonly status: number | undefined;
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
  }
}

/** The connection's credentials were rejected or revoked: the user must reconnect. */
export class AuthError extends PermanentError {
  override name = "AuthError";
}

/**
 * Whether a database error is the statement's data being refused (any SQLSTATE but connection
 * exception, insufficient resources, operator intervention, system and internal errors), as
 * opposed to a connection or a database failing as a whole: a batch refused for its data is
 * worth trying again item by item.
 */
export function refusedData(error: unknown): boolean {
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof severity === "string" && typeof code === "string" && !/^(08|53|57|58|XX)/.test(code);
}
