// The OAuth2 authorization code flow (RFC 6749 §4.1, PKCE per RFC 7636) over a service's declared
// `oauth2` block: the authorize URL, the code exchange, the account identity, revocation.
// Runtime-neutral: the caller passes its fetch (the api function's, with a deadline).
import { base64url, sha256, toBase64 } from "./bytes.ts";
import { baseUrl, type Env, type OAuth2Definition } from "./define.ts";
import { parseJsonObject, valueAt } from "./json.ts";

type Fetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface OAuth2Client {
  clientId: string;
  clientSecret: string;
}

/** What a connection stores, encrypted: the worker reads it as NodeContext.credentials. */
export interface TokenSet {
  access_token: string;
  token_type: string;
  refresh_token?: string;
  /** ISO 8601; absent for tokens that do not expire (GitHub OAuth apps). */
  expires_at?: string;
  refresh_token_expires_at?: string;
}

export interface Grant {
  tokens: TokenSet;
  /** Granted scopes: the token response's `scope` (comma- or space-separated), else the requested ones. */
  scopes: string[];
}

export interface Identity {
  id: string;
  login: string | null;
  email: string | null;
}

/** A step of the flow failed at the provider. `code` is safe to show; the message has no secret. */
export class OAuth2Error extends Error {
  override name = "OAuth2Error";
  /** invalid_grant: the refresh token is dead, the user must reconnect; refresh_failed: try again later. */
  readonly code: "exchange_failed" | "identity_failed" | "invalid_grant" | "refresh_failed";
  constructor(code: OAuth2Error["code"], message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.code = code;
  }
}

/** The client id and secret from the environment, or null when either is missing (the provider is unavailable). */
export function oauth2Client(definition: OAuth2Definition, env: Env): OAuth2Client | null {
  const clientId = env[definition.clientIdEnv]?.trim();
  const clientSecret = env[definition.clientSecretEnv]?.trim();
  return clientId && clientSecret ? { clientId, clientSecret } : null;
}

/** A URL template with `{NAME}` from the environment (else its default in baseUrls) and `{client_id}`. */
export function oauth2Url(definition: OAuth2Definition, template: string, env: Env, clientId = ""): URL {
  const filled = template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    if (name === "client_id") return encodeURIComponent(clientId);
    if (!(name in definition.baseUrls)) throw new Error(`oauth2 URL ${template} names {${name}}, not in baseUrls`);
    return baseUrl(env, name, definition.baseUrls[name]);
  });
  return new URL(filled);
}

/** A PKCE code verifier: 32 random bytes, base64url (43 characters, RFC 7636 §4.1). */
export function codeVerifier(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 code challenge of a verifier: base64url(SHA-256(verifier)). */
export async function codeChallenge(verifier: string): Promise<string> {
  return base64url(await sha256(verifier));
}

/** Where to send the user's browser. `verifier` is required when the provider supports PKCE. */
export async function authorizeUrl(
  definition: OAuth2Definition,
  env: Env,
  client: OAuth2Client,
  request: { redirectUri: string; state: string; verifier?: string },
): Promise<URL> {
  const url = oauth2Url(definition, definition.authorizeUrl, env, client.clientId);
  const query = url.searchParams;
  query.set("response_type", "code");
  query.set("client_id", client.clientId);
  query.set("redirect_uri", request.redirectUri);
  query.set("scope", definition.scopes.join(definition.scopeSeparator ?? " "));
  query.set("state", request.state);
  if (definition.pkce) {
    if (!request.verifier) throw new Error("this provider uses PKCE: pass the code verifier");
    query.set("code_challenge", await codeChallenge(request.verifier));
    query.set("code_challenge_method", "S256");
  }
  for (const [name, value] of Object.entries(definition.authorizeParams ?? {})) query.set(name, value);
  return url;
}

function basicAuth(client: OAuth2Client): string {
  // RFC 6749 §2.3.1: each part form-encoded before base64.
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, "+");
  const credentials = new TextEncoder().encode(`${encode(client.clientId)}:${encode(client.clientSecret)}`);
  return `Basic ${toBase64(credentials)}`;
}

/** A JSON object or form-encoded body as a record; null when it is neither. */
async function readTokenResponse(response: Response): Promise<Record<string, unknown> | null> {
  const text = await response.text();
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
  return parseJsonObject(text);
}

const toIso = (seconds: unknown, now: number) =>
  typeof seconds === "number" && seconds > 0 || typeof seconds === "string" && /^\d+$/.test(seconds)
    ? new Date(now + Number(seconds) * 1000).toISOString()
    : undefined;

/** POSTs a token request (RFC 6749 §4.1.3, §6) with the client's authentication; the answer's fields, or why not. */
async function tokenRequest(
  definition: OAuth2Definition,
  env: Env,
  client: OAuth2Client,
  form: URLSearchParams,
  fetch: Fetch,
): Promise<{ ok: true; body: Record<string, unknown>; at: number } | { ok: false; error?: string; reason: string }> {
  const headers: Record<string, string> = {
    accept: "application/json",
    "content-type": "application/x-www-form-urlencoded",
  };
  if (definition.clientAuth === "client_secret_basic") {
    headers.authorization = basicAuth(client);
  } else {
    form.set("client_id", client.clientId);
    form.set("client_secret", client.clientSecret);
  }
  const url = oauth2Url(definition, definition.tokenUrl, env, client.clientId);
  const at = Date.now();
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers, body: form.toString() });
  } catch (error) {
    return { ok: false, reason: `token endpoint ${url.host} unreachable: ${(error as Error).message}` };
  }
  const body = await readTokenResponse(response);
  if (!response.ok || !body || body.error !== undefined || typeof body.access_token !== "string") {
    const reason = body?.error
      ? `${body.error}${body.error_description ? ` (${body.error_description})` : ""}`
      : `status ${response.status}`;
    return {
      ok: false,
      error: typeof body?.error === "string" ? body.error : undefined,
      reason: `token endpoint ${url.host} refused: ${reason}`,
    };
  }
  return { ok: true, body, at };
}

/** The tokens of a successful token response; `previous` fills what a refresh answer may leave out. */
function grantOf(definition: OAuth2Definition, body: Record<string, unknown>, at: number, previous?: TokenSet): Grant {
  const tokens: TokenSet = {
    access_token: body.access_token as string,
    token_type: typeof body.token_type === "string" ? body.token_type : previous?.token_type ?? "bearer",
  };
  // A refresh answer without a refresh token keeps the old one (RFC 6749 §6).
  const refresh = typeof body.refresh_token === "string" ? body.refresh_token : previous?.refresh_token;
  if (refresh) tokens.refresh_token = refresh;
  const expiresAt = toIso(body.expires_in, at);
  if (expiresAt) tokens.expires_at = expiresAt;
  const refreshExpiresAt = toIso(body.refresh_token_expires_in, at) ??
    (typeof body.refresh_token === "string" ? undefined : previous?.refresh_token_expires_at);
  if (refreshExpiresAt) tokens.refresh_token_expires_at = refreshExpiresAt;
  const scopes = typeof body.scope === "string" ? body.scope.split(/[,\s]+/).filter(Boolean) : [...definition.scopes];
  return { tokens, scopes };
}

/**
 * Token endpoint errors saying the refresh token is dead: RFC 6749 §5.2's invalid_grant, and GitHub's
 * own name for it (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens).
 */
const DEAD_REFRESH_TOKEN_ERRORS = new Set(["invalid_grant", "bad_refresh_token"]);

/**
 * Trades a refresh token for new tokens (RFC 6749 §6). `invalid_grant` (the refresh token was
 * revoked or expired) is an OAuth2Error "invalid_grant": the connection needs the user; any other
 * failure is "refresh_failed", worth retrying. Callers must refresh one connection at a time
 * (the worker: an advisory lock per connection, and a re-read of the stored tokens under it).
 */
export async function refreshTokens(
  definition: OAuth2Definition,
  env: Env,
  client: OAuth2Client,
  previous: TokenSet,
  fetch: Fetch,
): Promise<Grant> {
  if (!previous.refresh_token) throw new OAuth2Error("invalid_grant", "the connection holds no refresh token");
  const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: previous.refresh_token });
  const answer = await tokenRequest(definition, env, client, form, fetch);
  if (!answer.ok) {
    const code = answer.error !== undefined && DEAD_REFRESH_TOKEN_ERRORS.has(answer.error)
      ? "invalid_grant"
      : "refresh_failed";
    throw new OAuth2Error(code, `refreshing the token failed: ${answer.reason}`);
  }
  return grantOf(definition, answer.body, answer.at, previous);
}

/**
 * Exchanges an authorization code for tokens. A provider error (an `error` field, which GitHub
 * sends with status 200) or an unreadable answer is an OAuth2Error "exchange_failed".
 */
export async function exchangeCode(
  definition: OAuth2Definition,
  env: Env,
  client: OAuth2Client,
  request: { code: string; redirectUri: string; verifier?: string },
  fetch: Fetch,
): Promise<Grant> {
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    code: request.code,
    redirect_uri: request.redirectUri,
  });
  if (definition.pkce && request.verifier) form.set("code_verifier", request.verifier);
  const answer = await tokenRequest(definition, env, client, form, fetch);
  if (!answer.ok) {
    throw new OAuth2Error("exchange_failed", `exchanging the code failed: ${answer.reason}`);
  }
  return grantOf(definition, answer.body, answer.at);
}

const text = (value: unknown) =>
  typeof value === "string" && value !== "" ? value : typeof value === "number" ? String(value) : null;

/** The declared API headers with `{client_id}` in their values filled in. */
function apiHeaders(definition: OAuth2Definition, clientId: string): Record<string, string> {
  const entries = Object.entries(definition.apiHeaders ?? {});
  return Object.fromEntries(entries.map(([name, value]) => [name, value.replaceAll("{client_id}", clientId)]));
}

/** The provider account behind an access token (id, login, email), or an OAuth2Error "identity_failed". */
export async function fetchIdentity(
  definition: OAuth2Definition,
  env: Env,
  accessToken: string,
  fetch: Fetch,
): Promise<Identity> {
  const url = oauth2Url(definition, definition.identity.url, env);
  let body: unknown;
  try {
    const response = await fetch(url, {
      method: definition.identity.method ?? "GET",
      headers: {
        accept: "application/json",
        ...apiHeaders(definition, env[definition.clientIdEnv]?.trim() ?? ""),
        authorization: `Bearer ${accessToken}`,
      },
    });
    if (!response.ok) {
      // The start of the provider's answer says why (a scope missing, an app suspended, …).
      const said = (await response.text().catch(() => "")).replace(/\s+/g, " ").trim().slice(0, 200);
      throw new Error(`status ${response.status}${said ? `: ${said}` : ""}`);
    }
    body = await response.json();
    // An `error` field is a refusal, as at the token endpoint (Slack: 200 and {"ok": false, "error": …}).
    const refusal = (body as { error?: unknown } | null)?.error;
    if (typeof refusal === "string") throw new Error(`refused: ${refusal}`);
  } catch (error) {
    throw new OAuth2Error("identity_failed", `${url.host}${url.pathname}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const id = text(valueAt(body, definition.identity.id));
  if (id === null) throw new OAuth2Error("identity_failed", `${url.host}${url.pathname} named no account id`);
  return {
    id,
    login: text(valueAt(body, definition.identity.login)),
    email: definition.identity.email ? text(valueAt(body, definition.identity.email)) : null,
  };
}

/**
 * Revokes a token at the provider when it declares how. Resolves to false when it cannot (no
 * revoke endpoint) and throws when the provider refuses or is unreachable: callers treat it as
 * best effort.
 */
export async function revokeToken(
  definition: OAuth2Definition,
  env: Env,
  client: OAuth2Client,
  token: string,
  fetch: Fetch,
): Promise<boolean> {
  const revoke = definition.revoke;
  if (!revoke) return false;
  const url = oauth2Url(definition, revoke.url, env, client.clientId);
  const fields: Record<string, string> = { [revoke.tokenField]: token };
  if (revoke.clientIdField) fields[revoke.clientIdField] = client.clientId;
  const body = revoke.format === "json" ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
  const response = await fetch(url, {
    method: revoke.method,
    headers: {
      accept: "application/json",
      ...apiHeaders(definition, client.clientId),
      "content-type": revoke.format === "json" ? "application/json" : "application/x-www-form-urlencoded",
      authorization: basicAuth(client),
    },
    body,
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`${revoke.method} ${url.host}${url.pathname} answered ${response.status}`);
  return true;
}
