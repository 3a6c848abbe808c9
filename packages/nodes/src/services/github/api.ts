// GitHub's REST API as every github node calls it: the base URL (GITHUB_API_URL, default the real
// API), the documented headers, the connection's token, GitHub's rate-limit answers classified, and
// list pagination by Link header.
// https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
import { accessToken, baseUrl, type NodeContext } from "../../define.ts";
import { PermanentError, RetryableError } from "../../errors.ts";
import { readJson } from "../../fetch.ts";

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
export function githubRequest(ctx: NodeContext, method: string, path: string, body?: unknown): Promise<Response> {
  return send(ctx, method, new URL(`${apiBase(ctx)}${path}`), body);
}

/** Pages read at most from one list: 1000 items at 100 a page. */
const MAX_PAGES = 10;

/**
 * The items of a list endpoint (`/repos/o/r/hooks`), page by page at 100 a page, following GitHub's
 * `Link: <…>; rel="next"` until there is none (or MAX_PAGES). A next link off the API's origin is
 * refused: the access token would go with it.
 * https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
 */
export async function* githubPages<T>(ctx: NodeContext, path: string): AsyncGenerator<T[]> {
  const base = apiBase(ctx);
  let url: URL | null = new URL(`${base}${path}`);
  url.searchParams.set("per_page", "100");
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const response: Response = await send(ctx, "GET", url, undefined);
    yield await readList<T>(response, `GET ${url.pathname}`);
    const next = nextPageUrl(response.headers.get("link"));
    url = next === null ? null : new URL(next, url);
    if (url && url.origin !== new URL(base).origin) {
      throw new PermanentError(`GitHub's next page link leaves the API (${url.host}): refused`);
    }
  }
}

/** The JSON list a list endpoint answered `call` (`GET /user/repos`) with; anything else is GitHub misbehaving. */
export async function readList<T>(response: Response, call: string): Promise<T[]> {
  const items = await readJson<unknown>(response, `GitHub answered ${call} with something else than JSON`);
  if (!Array.isArray(items)) throw new PermanentError(`GitHub answered ${call} with something else than a list`);
  return items;
}

/** The `rel="next"` target of a Link header (RFC 8288), or null. */
export function nextPageUrl(link: string | null): string | null {
  if (!link) return null;
  for (const [, target, attributes] of link.matchAll(/<([^>]*)>([^,<]*)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";]*)"?/i.exec(attributes)?.[1];
    if (rel?.toLowerCase().split(/\s+/).includes("next")) return target;
  }
  return null;
}

function apiBase(ctx: NodeContext): string {
  return baseUrl(ctx.env, "GITHUB_API_URL", GITHUB_API_URL);
}

async function send(ctx: NodeContext, method: string, url: URL, body: unknown): Promise<Response> {
  const headers: Record<string, string> = { ...githubHeaders, authorization: `Bearer ${accessToken(ctx, "GitHub")}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  try {
    return await ctx.fetch(url, {
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
