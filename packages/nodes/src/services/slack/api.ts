// Slack's Web API as every slack node calls it: the base URL (SLACK_API_URL, default the real API), the
// connection's bot token, and Slack's answers classified. Slack reports most failures with HTTP 200 and
// `{"ok": false, "error": "<code>"}`, which the node fetch cannot see: slackCall reads the code. Rate
// limits come as HTTP 429 with Retry-After, which the node fetch already classifies.
// https://docs.slack.dev/apis/web-api/ (methods, arguments as JSON with a bearer token, `ok` and `error`)
// https://docs.slack.dev/apis/web-api/rate-limits
import { accessToken, baseUrl, type NodeContext } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { readJson, retryAfterSeconds, withQuery } from "../../fetch.ts";

export const SLACK_API_URL = "https://slack.com/api";
/** Where users authorize the app (the browser's side of OAuth): https://slack.com/oauth/v2/authorize. */
export const SLACK_OAUTH_URL = "https://slack.com";

/**
 * Error codes saying the token cannot do the call whatever the arguments: revoked, expired, of a
 * deactivated workspace or bot, or lacking a scope. Reconnecting fixes them (a new install grants the
 * scopes), so they are AuthErrors: the connection is marked and its AREAs paused.
 */
const AUTH_ERRORS = new Set([
  "not_authed",
  "invalid_auth",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "missing_scope",
  "not_allowed_token_type",
  "team_access_not_granted",
  "org_login_required",
]);

/**
 * Error codes of a transient state at Slack: worth the job queue's retry. (`internal_error` and
 * `fatal_error` may have done part of the work: see post_message.ts on what a retry then does.)
 */
const RETRYABLE_ERRORS = new Set([
  "ratelimited",
  "rate_limited",
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
  "team_added_to_org",
]);

/** A Web API answer that said `ok: true`, with the method's fields. */
export type SlackAnswer = Record<string, unknown> & { ok: true };

/**
 * The class of a Slack error code: AuthError for a token to reconnect, RetryableError for a transient
 * state (after Retry-After when Slack sent one), PermanentError for everything else (channel_not_found,
 * not_in_channel, is_archived, msg_too_long, invalid_arguments, …: the same call would fail again).
 */
export function slackError(
  method: string,
  answer: { error?: unknown; needed?: unknown },
  headers?: Headers,
): PermanentError | RetryableError {
  const code = typeof answer.error === "string" && answer.error !== "" ? answer.error : "unknown_error";
  // missing_scope names the scope the token lacks in `needed`.
  const needed = typeof answer.needed === "string" ? ` (needs the ${answer.needed} scope: reconnect Slack)` : "";
  const message = `Slack ${method} failed: ${code}${needed}`;
  if (AUTH_ERRORS.has(code)) return new AuthError(message);
  if (RETRYABLE_ERRORS.has(code)) {
    return new RetryableError(message, { retryAfterSeconds: headers && retryAfterSeconds(headers) });
  }
  return new PermanentError(message);
}

/**
 * Calls a Web API method (`chat.postMessage`) with the bot token: a write method with JSON arguments,
 * a read method (`conversations.list`: Slack reads those from the query string, not from JSON) with
 * `{ read: true }`. Resolves with the answer when Slack says `ok: true`; otherwise throws as slackError
 * classifies the code, or as the node fetch classifies a status that is not 200 (429 with Retry-After,
 * 5xx, …).
 */
export async function slackCall(
  ctx: NodeContext,
  method: string,
  args: Record<string, string | number | boolean | undefined> | Record<string, unknown>,
  options: { read?: boolean } = {},
): Promise<SlackAnswer> {
  // The connection's bot token: what oauth.v2.access returned as `access_token`.
  const token = accessToken(ctx, "Slack");
  const url = new URL(`${baseUrl(ctx.env, "SLACK_API_URL", SLACK_API_URL)}/${method}`);
  const headers: Record<string, string> = { accept: "application/json", authorization: `Bearer ${token}` };
  if (options.read) {
    withQuery(url, args as Record<string, string | number | boolean | undefined>);
  } else {
    // Without the charset Slack answers with a `missing_charset` warning.
    headers["content-type"] = "application/json; charset=utf-8";
  }
  const response = await ctx.fetch(url, {
    method: options.read ? "GET" : "POST",
    headers,
    body: options.read ? undefined : JSON.stringify(args),
  });
  const answer = await readJson<Record<string, unknown>>(response, `Slack ${method} answered without a JSON body`);
  if (answer?.ok === true) return answer as SlackAnswer;
  throw slackError(method, answer ?? {}, response.headers);
}
