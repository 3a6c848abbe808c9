// GitHub's REST API as every github node calls it: the base URL (GITHUB_API_URL, default the real
// API), the documented headers, the connection's token, and GitHub's rate-limit answers classified.
// https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
import { baseUrl, type NodeContext } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";

export const GITHUB_API_URL = "https://api.github.com";
export const GITHUB_OAUTH_URL = "https://github.com";

/** Sent on every call: GitHub refuses requests without a User-Agent and pins the API version by header. */
export const githubHeaders: Record<string, string> = {
  accept: "application/vnd.github+json",
  "x-github-api-version": "2022-11-28",
  "user-agent": "AREA",
};

/** GitHub's wait when a rate limit gives no Retry-After: "wait for at least one minute before retrying". */
const RATE_LIMIT_WAIT_SECONDS = 60;

/**
 * Calls `path` (`/repos/o/r/issues`) on the REST API with the connection's access token. Beyond the
 * node fetch's classification, a 403 that GitHub says is a rate limit (primary or secondary) is
 * retryable, not permanent.
 */
export async function githubRequest(
  ctx: NodeContext,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  const token = ctx.credentials?.access_token;
  if (typeof token !== "string" || token === "") {
    throw new AuthError("the GitHub connection holds no access token: reconnect the account");
  }
  const base = baseUrl(ctx.env, "GITHUB_API_URL", GITHUB_API_URL);
  const headers: Record<string, string> = { ...githubHeaders, authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  try {
    return await ctx.fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error instanceof PermanentError && error.status === 403 && /rate limit/i.test(error.message)) {
      throw new RetryableError(error.message, {
        status: 403,
        retryAfterSeconds: RATE_LIMIT_WAIT_SECONDS,
        cause: error,
      });
    }
    throw error;
  }
}
