// Discord's REST API as the discord nodes call it: the base URL (DISCORD_API_URL, default the real
// API, version 10), the documented headers, the bot token, and Discord's answers classified and
// made readable: 429 `retry_after`, the `{code, message, errors}` error body.
// https://discord.com/developers/docs/reference (authentication, user agent, snowflakes, error messages)
// https://discord.com/developers/docs/topics/rate-limits
// https://discord.com/developers/docs/topics/opcodes-and-status-codes#json
import { z } from "zod";
import { baseUrl, type NodeContext, secret } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { readJson, refusalParts, withQuery } from "../../fetch.ts";
import { parseJsonObject } from "../../json.ts";

export const DISCORD_API_URL = "https://discord.com/api/v10";

/** "Clients using the HTTP API must provide a valid User Agent": `DiscordBot ($url, $versionNumber)`. */
export const DISCORD_USER_AGENT = "DiscordBot (AREA, 0.1.0)";

/** Message content: "up to 2000 characters". */
export const MAX_CONTENT_LENGTH = 2000;
/** "Up to 10 rich embeds." */
export const MAX_EMBEDS = 10;

/** The API base without a trailing slash: DISCORD_API_URL when set (tests, proxies), else Discord's. */
export function discordApiBase(env: NodeContext["env"]): string {
  return baseUrl(env, "DISCORD_API_URL", DISCORD_API_URL);
}

/**
 * What an api_key connection to the `discord` service holds: the bot's token, as the Developer
 * Portal shows it (Bot → Reset Token). The api stores it encrypted; the worker hands it over as
 * ctx.credentials.
 */
export const discordBotCredentials = z.object({
  bot_token: secret("The bot's token (Developer Portal → your application → Bot → Reset Token)")
    .trim().max(200).regex(/^[A-Za-z0-9._-]+$/, "not a Discord bot token"),
});

/** A Discord snowflake: a 64-bit id written in decimal. */
export const snowflake = z.string().regex(/^[0-9]{1,20}$/, "must be a Discord id (digits)");

/** Compares two snowflakes by value: ids sort by creation time. */
export function compareSnowflakes(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export interface DiscordRequest {
  method: "GET" | "POST";
  /** Below the API base: `/channels/123/messages`. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Send `Authorization: Bot <token>` from the connection (every call but webhook executions). */
  bot: boolean;
  /** Sent as Idempotency-Key: a POST Discord deduplicates itself (a message nonce) may be retried within the call. */
  idempotencyKey?: string;
  /** Never to appear in an error message (a webhook's token, which is part of the path). */
  redact?: string;
}

/**
 * Calls Discord. Failures keep the node fetch's classification (RetryableError, AuthError on a 401
 * with the bot token, PermanentError), with Discord's error code and message in words, and a 429's
 * wait taken from Retry-After or, failing that, the body's `retry_after`.
 */
export async function discordRequest(ctx: NodeContext, request: DiscordRequest): Promise<Response> {
  const headers: Record<string, string> = { "user-agent": DISCORD_USER_AGENT, accept: "application/json" };
  if (request.bot) headers.authorization = `Bot ${botToken(ctx)}`;
  if (request.body !== undefined) headers["content-type"] = "application/json";
  if (request.idempotencyKey) headers["idempotency-key"] = request.idempotencyKey;
  const url = withQuery(new URL(`${discordApiBase(ctx.env)}${request.path}`), request.query);
  try {
    return await ctx.fetch(url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
  } catch (error) {
    throw explain(error, request.redact);
  }
}

/** The bot token of the connection; none is a connection to redo, not a request to send. */
function botToken(ctx: NodeContext): string {
  const parsed = discordBotCredentials.safeParse(ctx.credentials ?? {});
  if (!parsed.success) throw new AuthError("the Discord connection holds no bot token: reconnect it");
  return parsed.data.bot_token;
}

/** The same error class with Discord's own words, and a 429's wait from the body when no header gave it. */
function explain(error: unknown, redact: string | undefined): unknown {
  if (!(error instanceof RetryableError || error instanceof PermanentError)) return error;
  const refusal = refusalParts(error.message);
  // Not JSON, or cut off by the node fetch's snippet: the raw text is kept.
  const body: DiscordErrorBody | null = refusal?.snippet === undefined ? null : parseJsonObject(refusal.snippet);
  let message = refusal && body ? `${refusal.head}: ${describeDiscordError(body)}` : error.message;
  if (redact) message = message.replaceAll(redact, "[redacted]");
  if (error instanceof RetryableError) {
    const bodyWait = typeof body?.retry_after === "number" ? Math.ceil(body.retry_after) : undefined;
    const retryAfterSeconds = error.retryAfterSeconds === undefined && bodyWait === undefined
      ? undefined
      : Math.max(error.retryAfterSeconds ?? 0, bodyWait ?? 0);
    return new RetryableError(message, { status: error.status, retryAfterSeconds });
  }
  if (message === error.message) return error;
  return error instanceof AuthError
    ? new AuthError(message, { status: error.status })
    : new PermanentError(message, { status: error.status });
}

interface DiscordErrorBody {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
  retry_after?: unknown;
  global?: unknown;
}

/**
 * `Invalid Form Body (50035): content: Must be 2000 or fewer in length.` from Discord's error body,
 * its `errors` tree flattened to `path: message` pairs.
 */
function describeDiscordError(body: DiscordErrorBody): string {
  const message = typeof body.message === "string" ? body.message : "error";
  const code = typeof body.code === "number" ? ` (${body.code})` : "";
  const global = body.global === true ? " (global rate limit)" : "";
  const fields = fieldErrors(body.errors, []);
  return `${message}${code}${global}${fields.length ? `: ${fields.join("; ")}` : ""}`;
}

function fieldErrors(node: unknown, path: string[]): string[] {
  if (node === null || typeof node !== "object") return [];
  const entries = Object.entries(node as Record<string, unknown>);
  return entries.flatMap(([key, value]) => {
    if (key !== "_errors") return fieldErrors(value, [...path, key]);
    if (!Array.isArray(value)) return [];
    const where = path.length ? `${path.join(".")}: ` : "";
    return value.map((entry) => `${where}${(entry as { message?: unknown })?.message ?? "invalid"}`);
  });
}

/** A message object as Discord returns it, reduced to what the nodes read. */
export interface DiscordMessage {
  id: string;
  channel_id: string;
  content: string;
  timestamp: string;
  type: number;
  webhook_id?: string;
  author: { id: string; username: string; global_name?: string | null; bot?: boolean };
}

/** Reads a JSON body Discord answered with; anything else is Discord misbehaving (retry later). */
export function readDiscordJson<T>(response: Response): Promise<T> {
  return readJson<T>(response, `Discord answered ${response.status} without a JSON body`);
}

/**
 * The bot behind a token: `GET /users/@me`. What the api needs to store an api_key connection to
 * `discord` (provider_account_id = id, provider_login = username); a refused token is an AuthError.
 */
export async function discordBotIdentity(ctx: NodeContext): Promise<{ id: string; login: string }> {
  const response = await discordRequest(ctx, { method: "GET", path: "/users/@me", bot: true });
  const user = await readDiscordJson<{ id?: unknown; username?: unknown }>(response);
  if (typeof user.id !== "string" || typeof user.username !== "string") {
    throw new PermanentError("Discord's /users/@me answer has no id or username");
  }
  return { id: user.id, login: user.username };
}
