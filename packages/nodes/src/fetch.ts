// The fetch every node gets (NodeContext.fetch): the egress rules on every hop, one deadline for the
// whole call, redirects followed by hand so each target is checked, a short in-call retry of
// transient failures, and failures classified for the worker (errors.ts). Runtime-neutral: the
// runtime injects the underlying fetch; the worker's (worker/src/egress.ts) also checks every
// resolved address at connect time, which a name-only check here cannot.
import { AuthError, PermanentError, RetryableError } from "./errors.ts";
import { type AllowedHosts, destinationRefusal, refusalMessage } from "./net.ts";
import type { NodeContext } from "./define.ts";

export type FetchFunction = (input: URL, init: RequestInit) => Promise<Response>;

export interface NodeFetchOptions {
  /** The runtime's fetch (worker/src/egress.ts in the worker). */
  fetch: FetchFunction;
  allowedHosts: AllowedHosts;
  /** The calling service sends credentials: a 401 then means they are bad (AuthError), not a plain refusal. */
  authenticates: boolean;
  /** Aborts every request (the job's signal). */
  signal?: AbortSignal;
  /** One deadline for the whole call: every hop and retry, and reading the body. Default 15 s. */
  timeoutMs?: number;
  /** Default 5. */
  maxRedirects?: number;
}

export interface CappedBody {
  text: string;
  /** The body was longer than the cap; the rest was not downloaded. */
  truncated: boolean;
  bytes: number;
}

/** One request on the way: the URL changes on redirects, and a 303 (or a 301/302 after POST) becomes a GET. */
interface Hop {
  url: URL;
  method: string;
  headers: Headers;
  body: ArrayBuffer | undefined;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Statuses retried within the call: a gateway or an overloaded server, usually gone in a second. */
const RETRIED_STATUSES = new Set([502, 503, 504]);
/** Besides 5xx, the statuses that say "try again later". */
const RETRYABLE_STATUSES = new Set([408, 425, 429]);
/** Methods safe to send twice; others are retried only with an Idempotency-Key the server dedupes on. */
const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
const MAX_RETRIES = 2;
/** Retry n waits about BACKOFF_MS·2ⁿ, jittered ±50% so callers failing together do not return together. */
const BACKOFF_MS = 200;
/** A longer Retry-After is left to the job queue (RetryableError.retryAfterSeconds) rather than held here. */
const MAX_IN_CALL_WAIT_MS = 2_000;
const SNIPPET_CHARS = 500;
/** Not forwarded to another origin on a redirect: they belong to the first one. */
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];
/** Dropped with the body when a redirect turns the request into a GET. */
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language", "content-location"];

export function createNodeFetch(options: NodeFetchOptions): NodeContext["fetch"] {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxRedirects = options.maxRedirects ?? 5;
  return async (input, init = {}) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([deadline, options.signal, init.signal].filter((s) => s instanceof AbortSignal));
    let hop = await firstHop(input, init);
    try {
      for (let redirects = 0;; redirects++) {
        checkDestination(hop.url, options.allowedHosts);
        const response = await sendWithRetries(options.fetch, hop, signal);
        const next = nextHop(hop, response);
        if (!next) return await classify(response, hop, options.authenticates);
        await response.body?.cancel();
        if (redirects === maxRedirects) {
          throw new PermanentError(`${label(hop)}: more than ${maxRedirects} redirects (next: ${next.url.host})`);
        }
        hop = next;
      }
    } catch (error) {
      if (error instanceof RetryableError || error instanceof PermanentError || !deadline.aborted) throw error;
      throw new RetryableError(`${label(hop)} timed out after ${timeoutMs / 1000} s`, { cause: error });
    }
  };
}

/**
 * Reads at most `maxBytes` of a body, cancelling the stream there so the rest is never downloaded.
 * A character cut by the cap is dropped. A failure while reading is a network failure: retryable.
 */
export async function readCapped(response: Response, maxBytes: number): Promise<CappedBody> {
  if (!response.body) return { text: "", truncated: false, bytes: 0 };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: text + decoder.decode(), truncated: false, bytes };
      const kept = value.subarray(0, maxBytes - bytes);
      bytes += kept.length;
      text += decoder.decode(kept, { stream: true });
      if (kept.length < value.length) {
        // What we keep is read: a failing cancel only means the stream is already gone.
        await reader.cancel().catch(() => {});
        return { text, truncated: true, bytes };
      }
    }
  } catch (error) {
    throw new RetryableError(`reading the response body failed: ${errorText(error)}`, { cause: error });
  }
}

/**
 * A response's JSON body. A body that is not JSON is the provider misbehaving, likely briefly: a
 * RetryableError saying `message`.
 */
export async function readJson<T = unknown>(response: Response, message: string): Promise<T> {
  try {
    return await response.json() as T;
  } catch (error) {
    throw new RetryableError(message, { cause: error });
  }
}

/** Retry-After in seconds, as delta-seconds or an HTTP-date; undefined when absent or unreadable. */
export function retryAfterSeconds(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** `<METHOD host/path> answered <status>: <body snippet>`, as classify() words a refusal. */
const REFUSAL = /^(.*? answered \d{3})(?:: (.*))?$/s;

/**
 * A refusal's message (a RetryableError's or PermanentError's from this fetch) split into its head
 * (`POST api.example.com/path answered 400`) and the provider's body snippet, so that an API module can
 * word the body in the provider's terms; undefined for any other message.
 */
export function refusalParts(message: string): { head: string; snippet: string | undefined } | undefined {
  const [, head, snippet] = REFUSAL.exec(message) ?? [];
  return head === undefined ? undefined : { head, snippet };
}

/** `url` with `query` appended: undefined values left out, a list repeated (`a=1&a=2`). */
export function withQuery(
  url: URL,
  query: Record<string, string | number | boolean | readonly string[] | undefined> | undefined,
): URL {
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const item of typeof value === "object" ? value : [value]) url.searchParams.append(name, String(item));
  }
  return url;
}

async function firstHop(input: string | URL, init: RequestInit): Promise<Hop> {
  try {
    const url = new URL(input);
    // Request normalizes the method and adds the Content-Type a FormData or URLSearchParams body implies;
    // the body is buffered once so retries and 307/308 redirects can send it again.
    const request = new Request(url, init);
    const body = request.body ? await request.arrayBuffer() : undefined;
    return { url, method: request.method, headers: new Headers(request.headers), body };
  } catch (error) {
    throw new PermanentError(`invalid request: ${errorText(error)}`, { cause: error });
  }
}

function checkDestination(url: URL, allowed: AllowedHosts): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PermanentError(`refused ${url.protocol} URL for host ${url.host}: only http and https may be called`);
  }
  const refusal = destinationRefusal(url.hostname, [], allowed);
  if (refusal) throw new PermanentError(refusalMessage(refusal));
}

async function sendWithRetries(fetch: FetchFunction, hop: Hop, signal: AbortSignal): Promise<Response> {
  const mayRetry = IDEMPOTENT_METHODS.has(hop.method) || hop.headers.has("idempotency-key");
  for (let retry = 0;; retry++) {
    const last = !mayRetry || retry === MAX_RETRIES;
    let response: Response;
    try {
      response = await send(fetch, hop, signal);
    } catch (error) {
      if (last || !(error instanceof RetryableError)) throw error;
      await sleep(backoffMs(retry), signal);
      continue;
    }
    if (last || !RETRIED_STATUSES.has(response.status)) return response;
    const retryAfter = retryAfterSeconds(response.headers);
    const waitMs = retryAfter === undefined ? backoffMs(retry) : retryAfter * 1000;
    if (waitMs > MAX_IN_CALL_WAIT_MS) return response;
    await response.body?.cancel();
    await sleep(waitMs, signal);
  }
}

/** One attempt. A network failure becomes a RetryableError, unless the egress refused the address. */
async function send(fetch: FetchFunction, hop: Hop, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(hop.url, {
      method: hop.method,
      headers: hop.headers,
      body: hop.body,
      redirect: "manual",
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error; // a timeout or the caller: decided by createNodeFetch
    const refused = causes(error).find((cause) => cause instanceof PermanentError);
    throw refused ?? new RetryableError(`${label(hop)} failed: ${errorText(error)}`, { cause: error });
  }
}

/** The request a redirect asks for, or null when the response is not one to follow. */
function nextHop(hop: Hop, response: Response): Hop | null {
  const location = response.headers.get("location");
  if (!REDIRECT_STATUSES.has(response.status) || location === null) return null;
  const url = URL.parse(location, hop.url.href);
  if (!url) throw new PermanentError(`${label(hop)} redirected to an invalid URL`);
  // Following would send the request, and any body, in clear text after the caller asked for TLS.
  if (hop.url.protocol === "https:" && url.protocol === "http:") {
    throw new PermanentError(`${label(hop)} redirected from https to http (${url.host}): refused`);
  }
  const headers = new Headers(hop.headers);
  if (url.origin !== hop.url.origin) CREDENTIAL_HEADERS.forEach((name) => headers.delete(name));
  const becomesGet = (response.status === 303 && hop.method !== "HEAD") ||
    ((response.status === 301 || response.status === 302) && hop.method === "POST");
  if (!becomesGet) return { url, method: hop.method, headers, body: hop.body };
  BODY_HEADERS.forEach((name) => headers.delete(name));
  return { url, method: "GET", headers, body: undefined };
}

/** Returns a response below 400 (redirects not followed, such as 304, included); throws for the rest. */
async function classify(response: Response, hop: Hop, authenticates: boolean): Promise<Response> {
  const status = response.status;
  if (status < 400) return response;
  // 4 bytes per character at most: enough bytes for the snippet whatever the script.
  const body = await readCapped(response, SNIPPET_CHARS * 4).catch(() => ({ text: "" }));
  const snippet = body.text.replace(/\s+/g, " ").trim().slice(0, SNIPPET_CHARS);
  const message = `${label(hop)} answered ${status}${snippet ? `: ${snippet}` : ""}`;
  if (status === 401 && authenticates) throw new AuthError(message, { status });
  if (RETRYABLE_STATUSES.has(status) || status >= 500) {
    const headers = response.headers;
    throw new RetryableError(message, { status, retryAfterSeconds: retryAfterSeconds(headers), headers });
  }
  throw new PermanentError(message, { status });
}

/** How a request is named in messages: method, host and path, never the query (it may hold keys). */
function label(hop: Hop): string {
  return `${hop.method} ${hop.url.host}${hop.url.pathname}`;
}

function backoffMs(retry: number): number {
  return BACKOFF_MS * 2 ** retry * (0.5 + Math.random());
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The error and its causes, outermost first (fetch wraps the socket error as "fetch failed"). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current != null && !chain.includes(current); current = (current as Error).cause) {
    chain.push(current);
  }
  return chain;
}

function errorText(error: unknown): string {
  return causes(error)
    .map((cause) => (cause instanceof Error ? cause.message || (cause as { code?: string }).code : String(cause)))
    .filter(Boolean)
    .join(": ");
}
