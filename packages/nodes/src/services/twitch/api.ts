// Twitch's Helix API as the twitch nodes call it: the base URLs (TWITCH_API_URL, TWITCH_OAUTH_URL, default
// the real ones), the Client-Id and Bearer headers, the connected user's token or the app's (client
// credentials), and Twitch's answers classified and made readable: the `{error, status, message}` body,
// a 429's wait from Ratelimit-Reset (Twitch sends epoch seconds there, and no Retry-After), and
// cursor pagination (`pagination.cursor`, passed back as `after`).
// https://dev.twitch.tv/docs/api/guide/ (authentication, pagination, rate limits)
// https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#client-credentials-grant-flow
// https://dev.twitch.tv/docs/api/reference/#get-users
import { z } from "zod";
import { accessToken, baseUrl, type Env, type NodeContext } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { readJson, refusalParts, withQuery } from "../../fetch.ts";
import { parseJsonObject } from "../../json.ts";

export const TWITCH_API_URL = "https://api.twitch.tv";
export const TWITCH_OAUTH_URL = "https://id.twitch.tv";

/** A channel by its login name (twitch.tv/<login>); blank means the connected account's own channel. */
export function broadcasterParam(description: string) {
  return z.string().trim().regex(/^[A-Za-z0-9_]{0,25}$/, "must be a Twitch login name (letters, digits, _)")
    .optional().meta({ description, placeholder: "twitchdev" });
}

export interface HelixRequest {
  method: "GET" | "POST" | "DELETE";
  /** Below the API base: `/helix/users`. */
  path: string;
  /** Query parameters; undefined ones are left out. */
  query?: Record<string, string | undefined>;
  body?: unknown;
  /**
   * Whose token: the connected user's, or the app's (client credentials), which Twitch requires for
   * EventSub webhook subscriptions.
   */
  as: "user" | "app";
}

/**
 * Calls Helix. Failures keep the node fetch's classification (RetryableError, AuthError on a 401 of the
 * user's token, PermanentError) in Twitch's words; a 429 waits until Ratelimit-Reset. With the app
 * token, a 401 gets one more try with a new token, then is a PermanentError: it is the operator's
 * application, not the user's connection, that Twitch refuses.
 */
export async function helixRequest(ctx: NodeContext, request: HelixRequest): Promise<Response> {
  if (request.as === "user") return await send(ctx, request, accessToken(ctx, "Twitch"));
  const token = await appAccessToken(ctx);
  try {
    return await send(ctx, request, token);
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    forgetAppToken(ctx.env, token); // revoked or expired early: get another
  }
  try {
    return await send(ctx, request, await appAccessToken(ctx));
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    throw new PermanentError(`${error.message} (the app access token of TWITCH_CLIENT_ID)`, {
      status: error.status,
      cause: error,
    });
  }
}

export interface HelixPage<T> {
  data: T[];
  /** Pass as `after` for the next page; undefined on the last one. */
  cursor: string | undefined;
  /** Present on the endpoints that count (followers, subscriptions). */
  total: number | undefined;
}

/** One page of a Helix list: `{data: [...], pagination: {cursor}, total?}`. */
export async function helixPage<T>(ctx: NodeContext, request: HelixRequest): Promise<HelixPage<T>> {
  const body = await readHelixJson<{ data?: unknown; pagination?: { cursor?: unknown }; total?: unknown }>(
    await helixRequest(ctx, request),
  );
  if (!Array.isArray(body.data)) throw new RetryableError(`Twitch answered ${request.path} without a data array`);
  const cursor = body.pagination?.cursor;
  return {
    data: body.data as T[],
    cursor: typeof cursor === "string" && cursor !== "" ? cursor : undefined,
    total: typeof body.total === "number" ? body.total : undefined,
  };
}

/** Reads a JSON body Twitch answered with; anything else is Twitch misbehaving (retry later). */
export function readHelixJson<T>(response: Response): Promise<T> {
  return readJson<T>(response, `Twitch answered ${response.status} without a JSON body`);
}

export interface TwitchUser {
  id: string;
  login: string;
  display_name: string;
}

/**
 * The user with login name `login`, or the connected user when it is blank (GET /helix/users with no
 * query names the token's user). An unknown login is a PermanentError naming `field`.
 */
export async function twitchUser(ctx: NodeContext, login: string | undefined, field: string): Promise<TwitchUser> {
  const name = login?.trim().toLowerCase() || undefined;
  const { data: [user] } = await helixPage<TwitchUser>(ctx, {
    method: "GET",
    path: "/helix/users",
    query: { login: name },
    as: "user",
  });
  if (typeof user?.id === "string" && user.id !== "") return user;
  throw new PermanentError(
    name ? `${field}: Twitch has no user named "${name}"` : "Twitch named no user for the connection's token",
  );
}

/** The operator's Twitch application id: every Helix call names it in Client-Id. */
function twitchClientId(env: Env): string {
  const clientId = env.TWITCH_CLIENT_ID?.trim();
  if (!clientId) throw new PermanentError("TWITCH_CLIENT_ID is not set: the Twitch application is not configured");
  return clientId;
}

async function send(ctx: NodeContext, request: HelixRequest, token: string): Promise<Response> {
  const headers: Record<string, string> = {
    accept: "application/json",
    "client-id": twitchClientId(ctx.env),
    authorization: `Bearer ${token}`,
  };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  const url = withQuery(new URL(`${baseUrl(ctx.env, "TWITCH_API_URL", TWITCH_API_URL)}${request.path}`), request.query);
  try {
    return await ctx.fetch(url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
  } catch (error) {
    throw explain(error);
  }
}

/** The same error class in Twitch's words; a 429 without Retry-After waits until Ratelimit-Reset. */
function explain(error: unknown): unknown {
  if (!(error instanceof RetryableError || error instanceof PermanentError)) return error;
  const refusal = refusalParts(error.message);
  const words = refusal?.snippet === undefined ? undefined : describeTwitchError(refusal.snippet);
  const message = refusal && words ? `${refusal.head}: ${words}` : error.message;
  const options = { status: error.status, cause: error };
  if (error instanceof RetryableError) {
    const reset = error.status === 429 ? rateLimitResetSeconds(error.headers) : undefined;
    return new RetryableError(message, {
      ...options,
      retryAfterSeconds: error.retryAfterSeconds ?? reset,
      headers: error.headers,
    });
  }
  return error instanceof AuthError ? new AuthError(message, options) : new PermanentError(message, options);
}

/** Seconds until `Ratelimit-Reset` (the epoch second Twitch's token bucket refills), else undefined. */
function rateLimitResetSeconds(headers: Headers | undefined, now = Date.now()): number | undefined {
  const value = headers?.get("ratelimit-reset")?.trim();
  if (!value || !/^\d{1,12}$/.test(value)) return undefined;
  return Math.max(0, Math.ceil(Number(value) - now / 1000));
}

/** `Unauthorized: Invalid OAuth token` from Helix's `{error, status, message}` (the token endpoint sends no `error`). */
function describeTwitchError(snippet: string): string | undefined {
  // Not a JSON object, or cut off by the node fetch's snippet: the raw text is kept.
  const body = parseJsonObject(snippet);
  if (!body) return undefined;
  const parts = [body.error, body.message].filter((part) => typeof part === "string" && part !== "");
  return parts.length ? parts.join(": ") : undefined;
}

// App access tokens (client credentials grant) live about 60 days; one per application is cached in
// memory and shared by every job of this process, renewed a minute before it expires or when refused.
interface AppToken {
  accessToken: string;
  expiresAtMs: number;
}

const appTokens = new Map<string, AppToken>();
const appTokenGrants = new Map<string, Promise<AppToken>>();
const EXPIRY_MARGIN_MS = 60_000;
/** When the token endpoint names no lifetime: ask again after an hour. */
const DEFAULT_LIFETIME_SECONDS = 3600;

const oauthBase = (env: Env) => baseUrl(env, "TWITCH_OAUTH_URL", TWITCH_OAUTH_URL);
const appTokenKey = (env: Env) => `${oauthBase(env)} ${twitchClientId(env)}`;

/** The application's access token: cached until a minute before it expires; concurrent callers share one grant. */
async function appAccessToken(ctx: NodeContext): Promise<string> {
  const key = appTokenKey(ctx.env);
  const cached = appTokens.get(key);
  if (cached && cached.expiresAtMs - EXPIRY_MARGIN_MS > Date.now()) return cached.accessToken;
  let grant = appTokenGrants.get(key);
  if (!grant) {
    grant = requestAppToken(ctx).finally(() => appTokenGrants.delete(key));
    appTokenGrants.set(key, grant);
  }
  const token = await grant;
  appTokens.set(key, token);
  return token.accessToken;
}

/** Drops a token Twitch refused, unless another caller already replaced it. */
function forgetAppToken(env: Env, refused: string): void {
  const key = appTokenKey(env);
  if (appTokens.get(key)?.accessToken === refused) appTokens.delete(key);
}

/** POST /oauth2/token with grant_type=client_credentials. A refusal is the operator's configuration: permanent. */
async function requestAppToken(ctx: NodeContext): Promise<AppToken> {
  const clientId = twitchClientId(ctx.env);
  const clientSecret = ctx.env.TWITCH_CLIENT_SECRET?.trim();
  if (!clientSecret) {
    throw new PermanentError("TWITCH_CLIENT_SECRET is not set: the Twitch application is not configured");
  }
  const at = Date.now();
  let response: Response;
  try {
    response = await ctx.fetch(`${oauthBase(ctx.env)}/oauth2/token`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret, grant_type: "client_credentials" })
        .toString(),
    });
  } catch (error) {
    const explained = explain(error);
    if (!(explained instanceof PermanentError)) throw explained;
    throw new PermanentError(
      `the Twitch app access token was refused (check TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET): ${explained.message}`,
      { status: explained.status, cause: explained },
    );
  }
  const body = await readHelixJson<{ access_token?: unknown; expires_in?: unknown }>(response);
  if (typeof body.access_token !== "string" || body.access_token === "") {
    throw new RetryableError("Twitch's token endpoint answered without an access token");
  }
  const lifetime = typeof body.expires_in === "number" && body.expires_in > 0
    ? body.expires_in
    : DEFAULT_LIFETIME_SECONDS;
  return { accessToken: body.access_token, expiresAtMs: at + lifetime * 1000 };
}
