// How a service declares itself. Everything else (catalogue rows, JSON Schemas, about.json,
// validation, docs) is derived from these declarations: see catalogue.ts.
import { z } from "zod";
import { AuthError, PermanentError } from "./errors.ts";
import type { Logger } from "./log.ts";

/**
 * Operator configuration from the runtime's environment: provider base URLs (GITHUB_API_URL, …),
 * app-level webhook keys (SLACK_SIGNING_SECRET, …), OAuth2 client ids and secrets.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export type AuthKind = "none" | "oauth2" | "api_key";

/** A parameter or output object: each property becomes a catalogue row. */
export type Fields = z.ZodObject;

export interface ActionDefinition {
  key: string;
  name: string;
  description: string;
  params: Fields;
  /** The action's return values: what `{{placeholders}}` in reaction params may name. */
  outputs: Fields;
  /** An example output, used for test runs and docs. */
  sample: Record<string, unknown>;
  /** How the trigger is detected: by polling, by webhook, or both (webhook is then preferred). */
  trigger: {
    polling?: PollingTrigger;
    webhook?: WebhookTrigger;
  };
}

/** What every node gets from the runtime (the worker). */
export interface NodeContext {
  /**
   * fetch with the platform's egress rules (no private addresses unless allowed), a timeout,
   * a redirect limit, short retries of transient failures, and classification: a response that
   * is not ok throws RetryableError (network, 408, 425, 429, 5xx, honouring Retry-After),
   * AuthError (401 on a service that authenticates) or PermanentError (other 4xx).
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  /** The decrypted credentials of the connection, or null for services without auth. */
  credentials: Record<string, unknown> | null;
  log: Logger;
  /** Aborted when the job times out or the worker shuts down. */
  signal: AbortSignal;
  /** Operator configuration (provider base URLs, …) from the worker's environment. */
  env: Env;
}

/** One detected occurrence of a trigger. `dedupeKey` is unique per hook (a delivery or item id). */
export interface TriggerEvent {
  dedupeKey: string;
  /** The action's outputs for this event. */
  outputs: Record<string, unknown>;
}

export interface PollContext extends NodeContext {
  hookJobId: string;
  /** The instant this poll was scheduled for (a timer fires "at" it, not when the worker got to it). */
  scheduledAt: Date;
}

export interface PollResult {
  events: TriggerEvent[];
  /** The new cursor, stored only after the events are; null or absent keeps the old one. */
  cursor?: unknown;
}

export interface PollingTrigger {
  minIntervalSeconds: number;
  defaultIntervalSeconds: number;
  /** Names a param whose value is the polling interval (a timer's period). */
  intervalParam?: string;
  /**
   * Returns what happened since `cursor` (undefined on the first poll after enabling: that poll
   * only sets the baseline, its events are dropped by the engine).
   */
  poll(ctx: PollContext, params: Record<string, unknown>, cursor: unknown): Promise<PollResult>;
}

/** An incoming webhook request, as both the webhooks function and tests build it. */
export interface WebhookRequest {
  method: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  query: Record<string, string>;
  rawBody: Uint8Array;
  /** The body parsed as JSON when it is JSON, else the text. */
  body: unknown;
  receivedAt: Date;
}

/** A response the webhooks function sends instead of storing an event (a provider's URL check). */
export interface WebhookReply {
  status: number;
  body: string;
  contentType?: string;
  /**
   * Set when the request tells that the provider stopped delivering to this hook (a revoked Twitch
   * EventSub subscription): the webhooks function should mark the hook, beyond answering.
   */
  revoked?: { reason: string };
}

export interface WebhookTrigger {
  /** The provider must be told about the endpoint (subscribe/unsubscribe jobs run then). */
  requiresRegistration: boolean;
  /**
   * True when the request is authentic (signature, timestamp window): under this hook's secret, or
   * under an application's key from `env` for providers that sign with one key per app (Slack,
   * Discord). Without `env`, such a verifier refuses everything.
   */
  verify(request: WebhookRequest, secret: string, env?: Env): Promise<boolean>;
  /** A verified request that is a handshake gets this reply and creates no event. */
  handshake?(request: WebhookRequest): WebhookReply | null;
  /** The events a verified request carries (usually one). */
  events(request: WebhookRequest, params: Record<string, unknown>): TriggerEvent[];
  subscribe?(ctx: NodeContext, registration: WebhookRegistration): Promise<{ subscriptionId: string }>;
  unsubscribe?(ctx: NodeContext, registration: WebhookRegistration & { subscriptionId: string }): Promise<void>;
}

export interface WebhookRegistration {
  params: Record<string, unknown>;
  /** The public URL the provider must call. */
  endpoint: string;
  secret: string;
}

export interface ReactionContext extends NodeContext {
  /** Stable per (event, reaction): send it to providers that deduplicate (Idempotency-Key). */
  idempotencyKey: string;
}

export interface ReactionDefinition {
  key: string;
  name: string;
  description: string;
  params: Fields;
  /**
   * Does the work; the returned object is recorded as the reaction's output. On an AuthError from an
   * OAuth2 connection the worker refreshes the token and calls run once more from the start, so a run
   * makes its one changing call last, after any reads that may be refused.
   */
  run(ctx: ReactionContext, params: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface ServiceDefinition {
  key: string;
  name: string;
  description: string;
  icon?: string;
  auth: AuthKind;
  /** How a user connects an account, for `auth: "oauth2"` (the flow itself: oauth2.ts). */
  oauth2?: OAuth2Definition;
  /** What a connection holds and how it is proven, for `auth: "api_key"` (POST /api/connections). */
  apiKey?: ApiKeyDefinition;
  actions: ActionDefinition[];
  reactions: ReactionDefinition[];
}

/**
 * The credentials an api_key connection holds, declared once: the api validates them with `credentials`,
 * the catalogue derives their JSON Schema (secret fields typed with `secret()`, never echoed back), and
 * the worker hands them to nodes as ctx.credentials.
 */
export interface ApiKeyDefinition {
  credentials: Fields;
  /**
   * Proves the credentials work and names the provider account behind them (stored as the
   * connection's provider account: one connection per user, service and account). `credentials` are
   * also ctx.credentials. Refused credentials are an AuthError; an unreachable provider a RetryableError.
   */
  identity(ctx: NodeContext, credentials: Record<string, unknown>): Promise<ProviderAccount>;
}

/** The account behind a connection's credentials. */
export interface ProviderAccount {
  /** Stable and unique at the provider (a user id, an address). */
  id: string;
  /** What the user recognises it by (a username, an address). */
  login: string;
}

/**
 * A provider's OAuth2 authorization code flow, declared. URLs are templates: `{NAME}` is the
 * operator's environment variable NAME, or its default from `baseUrls` (the real provider), so
 * tests and self-hosted providers point them elsewhere; `{client_id}` is the client id.
 */
export interface OAuth2Definition {
  /** The environment variables the URLs may name, with their defaults: `{ GITHUB_API_URL: "https://api.github.com" }`. */
  baseUrls: Record<string, string>;
  authorizeUrl: string;
  tokenUrl: string;
  /** Requested scopes, joined with `scopeSeparator` (default a space). */
  scopes: string[];
  scopeSeparator?: string;
  /** The provider supports PKCE with S256 (RFC 7636). */
  pkce: boolean;
  /** How the client authenticates at the token endpoint (RFC 6749 §2.3.1). */
  clientAuth: "client_secret_post" | "client_secret_basic";
  /** Environment variables holding the client id and secret; a provider without both is unavailable. */
  clientIdEnv: string;
  clientSecretEnv: string;
  /** Extra query parameters of the authorize URL (`access_type: "offline"`, …). */
  authorizeParams?: Record<string, string>;
  /**
   * Headers the provider's API wants on every call (identity, revocation): `User-Agent`, a version, …;
   * `{client_id}` in a value is the client id (Twitch's `Client-Id`).
   */
  apiHeaders?: Record<string, string>;
  /**
   * The account behind an access token: a GET (or `method`: POST for RPC-style APIs such as Slack's
   * auth.test) with `Authorization: Bearer`, fields by dotted path in its JSON.
   */
  identity: { url: string; method?: "GET" | "POST"; id: string; login: string; email?: string };
  /**
   * Revoking a token, when the provider can: the token goes in `tokenField` of a form (RFC 7009: POST,
   * `token`) or JSON body, the client authenticates with HTTP Basic; `clientIdField`, when set, also
   * carries the client id in the body (Twitch: `client_id`).
   */
  revoke?: {
    url: string;
    method: "POST" | "DELETE";
    format: "form" | "json";
    tokenField: string;
    clientIdField?: string;
  };
}

/** A string the catalogue types as `secret`: write-only for clients, redacted from audit logs. */
export function secret(description: string) {
  return z.string().min(1).meta({ description, "x-area-type": "secret" });
}

/**
 * A provider's base URL without a trailing slash: env `name` when set (tests, proxies, self-hosted
 * providers), else `fallback` (the real provider).
 */
export function baseUrl(env: Env, name: string, fallback: string): string {
  return (env[name]?.trim() || fallback).replace(/\/+$/, "");
}

/**
 * The OAuth2 connection's access token (`access_token` of ctx.credentials). Without one the connection
 * needs the user, not a retry: an AuthError naming `provider`.
 */
export function accessToken(ctx: NodeContext, provider: string): string {
  const token = ctx.credentials?.access_token;
  if (typeof token !== "string" || token === "") {
    throw new AuthError(`the ${provider} connection holds no access token: reconnect the account`);
  }
  return token;
}

/** A node's params read with its schema; invalid ones are a PermanentError naming what is wrong. */
export function parseParams<T extends z.ZodType>(schema: T, raw: unknown): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new PermanentError(`invalid params: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
