// The Gmail REST API as the google nodes call it: the base URL (GMAIL_API_URL, default the real API),
// the connection's OAuth2 access token, Google's error body made readable and classified.
// https://developers.google.com/workspace/gmail/api/reference/rest
// https://developers.google.com/workspace/gmail/api/guides/handle-errors
import { z } from "zod";
import { accessToken, baseUrl, type NodeContext } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { readJson, refusalParts, withQuery } from "../../fetch.ts";

export const GMAIL_API_URL = "https://gmail.googleapis.com";
/** Google's OAuth2 hosts: the consent screen, the token and revocation endpoints, OpenID Connect's userinfo. */
export const GOOGLE_OAUTH_URL = "https://accounts.google.com";
export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com";
export const GOOGLE_USERINFO_URL = "https://openidconnect.googleapis.com";

/** A Gmail message or thread id (hexadecimal as Gmail issues them; any base64url text accepted). */
export const gmailId = z.string().trim().regex(/^[A-Za-z0-9_-]{1,128}$/, "must be a Gmail message id");

/** Google's reasons for a 403 that is a rate limit, not a refusal: retry later. */
const RATE_LIMIT_REASONS = new Set(["rateLimitExceeded", "userRateLimitExceeded"]);
/** A 403 for a scope the user did not grant (Google's consent screen lets them untick one): reconnect. */
const MISSING_SCOPE_REASONS = new Set(["insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"]);

export interface GmailRequest {
  method: "GET" | "POST";
  /** Below `/gmail/v1/users/me`: `/messages/send`. */
  path: string;
  /** A list value repeats the parameter (`metadataHeaders=From&metadataHeaders=To`). */
  query?: Record<string, string | string[] | undefined>;
  body?: unknown;
}

/**
 * Calls Gmail on behalf of the connection's account (`users/me`) and returns the JSON answer. Failures
 * keep the node fetch's classification (RetryableError for 429 and 5xx, AuthError for 401,
 * PermanentError) with Google's message and reason in words; a 403 Google says is a rate limit is
 * retryable, and one for a scope the user did not grant is an AuthError.
 */
export async function gmailRequest<T>(ctx: NodeContext, request: GmailRequest): Promise<T> {
  const token = accessToken(ctx, "Google");
  const base = baseUrl(ctx.env, "GMAIL_API_URL", GMAIL_API_URL);
  const url = withQuery(new URL(`${base}/gmail/v1/users/me${request.path}`), request.query);
  const headers: Record<string, string> = { accept: "application/json", authorization: `Bearer ${token}` };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await ctx.fetch(url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
  } catch (error) {
    throw explain(error);
  }
  return readJson<T>(response, `Gmail answered ${response.status} without a JSON body`);
}

interface GoogleError {
  message?: string;
  status?: string;
  reason?: string;
}

/**
 * Google's `{"error": {"code", "message", "status", "errors": [{"message", "domain", "reason"}]}}`.
 * The node fetch keeps the first 500 characters of a body: when that cut the JSON, the reason is still
 * read from the text, since it decides the class.
 */
function googleError(snippet: string): GoogleError {
  try {
    const { error } = JSON.parse(snippet) as {
      error?: { message?: unknown; status?: unknown; errors?: { reason?: unknown }[] };
    };
    const text = (value: unknown) => typeof value === "string" && value !== "" ? value : undefined;
    return { message: text(error?.message), status: text(error?.status), reason: text(error?.errors?.[0]?.reason) };
  } catch {
    return { reason: /"reason"\s*:\s*"(\w+)"/.exec(snippet)?.[1] };
  }
}

/** Gmail words some rate limits `User-rate limit exceeded. Retry after 2026-01-01T12:00:00.000Z`. */
function retryAfterInMessage(message: string | undefined, now = Date.now()): number | undefined {
  const at = /Retry after (\d{4}-\d{2}-\d{2}T[\d:.]+Z)/i.exec(message ?? "")?.[1];
  const time = at === undefined ? NaN : Date.parse(at);
  return Number.isNaN(time) ? undefined : Math.max(0, Math.ceil((time - now) / 1000));
}

/** The same failure in Google's words, reclassified where Google's reason says more than the status. */
function explain(error: unknown): unknown {
  if (!(error instanceof RetryableError || error instanceof PermanentError)) return error;
  const refusal = refusalParts(error.message);
  if (refusal?.snippet === undefined) return error;
  const { head, snippet } = refusal;
  const google = googleError(snippet);
  const details = [google.status, google.reason].filter(Boolean).join(", ");
  const message = google.message ? `${head}: ${google.message}${details ? ` (${details})` : ""}` : error.message;
  const status = error.status;
  const rateLimited = status === 429 || (status === 403 && RATE_LIMIT_REASONS.has(google.reason ?? ""));
  if (error instanceof RetryableError || rateLimited) {
    const retryAfterSeconds = (error as Partial<RetryableError>).retryAfterSeconds ??
      retryAfterInMessage(google.message);
    return new RetryableError(message, { status, retryAfterSeconds, cause: error });
  }
  if (error instanceof AuthError || (status === 403 && MISSING_SCOPE_REASONS.has(google.reason ?? ""))) {
    return new AuthError(message, { status, cause: error });
  }
  return new PermanentError(message, { status, cause: error });
}

/** Whether a failure is Gmail's 404: the message, label or history point does not exist (any more). */
export const isNotFound = (error: unknown) => error instanceof PermanentError && error.status === 404;

/** A Label resource, reduced to what the nodes read. */
export interface GmailLabel {
  id: string;
  name: string;
  type?: "system" | "user";
}

/**
 * Every label of the mailbox, system and user ones: `users.labels.list` has them all in one answer (no
 * paging). https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.labels/list
 */
export async function gmailLabels(ctx: NodeContext): Promise<GmailLabel[]> {
  const { labels } = await gmailRequest<{ labels?: unknown }>(ctx, { method: "GET", path: "/labels" });
  // A mailbox without labels omits the field; entries without an id and a name are not labels one can name.
  return (Array.isArray(labels) ? labels as Partial<GmailLabel>[] : []).filter((label): label is GmailLabel =>
    typeof label?.id === "string" && label.id !== "" && typeof label.name === "string" && label.name !== ""
  );
}

/**
 * The label a user named, by id (`INBOX`, `Label_12`) or by name (`Receipts`, `Work/Clients`; case
 * does not matter, as for Gmail's own names). None is a PermanentError naming it.
 */
export async function resolveLabel(ctx: NodeContext, label: string): Promise<GmailLabel> {
  const labels = await gmailLabels(ctx);
  const wanted = label.trim();
  const found = labels.find((candidate) => candidate.id === wanted) ??
    labels.find((candidate) => candidate.name === wanted) ??
    labels.find((candidate) => candidate.name.toLowerCase() === wanted.toLowerCase());
  if (!found) throw new PermanentError(`label: Gmail has no label named or with the id "${wanted}"`);
  return found;
}

/** A Message resource as `users.messages.get` returns it, reduced to what the nodes read. */
export interface GmailMessage {
  id: string;
  threadId: string;
  labelIds?: string[];
  snippet?: string;
  historyId?: string;
  /** Epoch milliseconds, as a string. */
  internalDate?: string;
  payload?: { headers?: { name: string; value: string }[] };
}
