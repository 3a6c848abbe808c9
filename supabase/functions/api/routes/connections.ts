// Connections: a user's accounts at OAuth2 providers. `authorize` hands the frontend the provider's
// URL; the provider sends the browser back to `callback`, which exchanges the code, reads the
// account, stores the tokens encrypted and sends the browser on to the frontend. The flow itself
// (URLs, exchange, identity, revocation) is packages/nodes/src/oauth2.ts over the service's
// declared `oauth2` block.
//
// api_key services (a bot token, a key) are connected with one POST of the credentials their
// declared `apiKey.credentials` schema describes: checked at the provider by the service's
// `apiKey.identity` (through the node fetch and its egress rules), then sealed and stored the same way.
//
// The state carries the user, the service and the PKCE verifier: a JWE (dir + A256GCM: encrypted
// and authenticated) under a key derived from AREA_ENCRYPTION_KEY, valid 10 minutes, accepted once
// (its jti is remembered until it expires in private.oauth_states).
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { EncryptJWT, errors as joseErrors, jwtDecrypt } from "jose";
import { credentialsSchema } from "../../../../packages/nodes/src/catalogue.ts";
import { nodeContext } from "../../../../packages/nodes/src/context.ts";
import { type DerivedKeys, deriveKeys, seal, unseal } from "../../../../packages/nodes/src/crypto.ts";
import type { ProviderAccount, ServiceDefinition } from "../../../../packages/nodes/src/define.ts";
import { AuthError, PermanentError, RetryableError } from "../../../../packages/nodes/src/errors.ts";
import {
  authorizeUrl,
  codeVerifier,
  exchangeCode,
  fetchIdentity,
  oauth2Client,
  OAuth2Error,
  revokeToken,
} from "../../../../packages/nodes/src/oauth2.ts";
import type { AuthEnv } from "../../_shared/auth.ts";
import { Constants } from "../../_shared/database.types.ts";
import { asCaller, asService, type Transaction } from "../../_shared/db.ts";
import { nodeEgress } from "../../_shared/egress.ts";
import { credentialKeyring, declaredService, env, publicUrl } from "../../_shared/env.ts";
import { isUuid } from "../../_shared/ids.ts";
import { ApiError, providerRetryAfterSeconds, validationError } from "../../_shared/errors.ts";
import { log } from "../../_shared/log.ts";
import { errors, IdParam } from "../schemas.ts";

const tags = ["Connections"];
const security = [{ bearerAuth: [] }];

/** How long a user has to finish the provider's consent screen. */
const STATE_TTL_SECONDS = 600;
const STATE_AUDIENCE = "area:oauth2-state";
/** The HKDF info of the state key: a key for this purpose only, never the credentials' own. */
const STATE_KEY_PURPOSE = "area/oauth2-state/v1";
/** A provider that does not answer within this is a failed step, not a hung request. */
const PROVIDER_TIMEOUT_MS = 10_000;

/** Where providers send the browser back: the project's public URL, as registered at the provider. */
function redirectUri(service: string): string {
  return new URL(`/functions/v1/api/connections/${service}/callback`, publicUrl).href;
}

/** Whether users can connect to a service now: always for services without OAuth2, else when its client is configured. */
export function isAvailable(serviceKey: string): boolean {
  const oauth2 = declaredService(serviceKey)?.oauth2;
  return !oauth2 || oauth2Client(oauth2, env) !== null;
}

/** The JSON Schema of what a connection to an api_key service holds (GET /services), else null. */
export function credentialsSchemaOf(serviceKey: string): unknown {
  const found = declaredService(serviceKey);
  return found ? credentialsSchema(found) : null;
}

let stateKeys: Promise<DerivedKeys> | undefined;
const keysForState = () => (stateKeys ??= deriveKeys(env.AREA_ENCRYPTION_KEY, STATE_KEY_PURPOSE));

interface State {
  userId: string;
  service: string;
  verifier?: string;
  jti: string;
  expiresAt: number;
}

async function sealState(userId: string, service: string, verifier: string | undefined): Promise<string> {
  const { currentKeyId, keys } = await keysForState();
  return await new EncryptJWT({ svc: service, ...(verifier ? { cv: verifier } : {}) })
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: currentKeyId })
    .setSubject(userId)
    .setAudience(STATE_AUDIENCE)
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${STATE_TTL_SECONDS}s`)
    .encrypt(keys.get(currentKeyId)!);
}

/** Why a callback is refused; sent to the frontend as `reason`. */
type Reason =
  | "invalid_state"
  | "expired_state"
  | "state_reused"
  | "access_denied"
  | "provider_error"
  | "missing_code"
  | "provider_unavailable"
  | "exchange_failed"
  | "identity_failed"
  | "server_error";

class CallbackFailure extends Error {
  reason: Reason;
  constructor(reason: Reason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The state's claims if it is authentic, unexpired and for `service`; never trusts anything else in it. */
async function openState(token: string, service: string): Promise<State> {
  const { keys } = await keysForState();
  let payload;
  try {
    ({ payload } = await jwtDecrypt(token, (header) => {
      const key = header.kid === undefined ? undefined : keys.get(header.kid);
      if (!key) throw new Error("unknown key id");
      return key;
    }, {
      audience: STATE_AUDIENCE,
      keyManagementAlgorithms: ["dir"],
      contentEncryptionAlgorithms: ["A256GCM"],
      requiredClaims: ["sub", "jti", "exp", "iat"],
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new CallbackFailure("expired_state", "the state has expired");
    throw new CallbackFailure("invalid_state", "the state is not one this server issued");
  }
  const { sub, jti, exp, svc, cv } = payload;
  if (svc !== service || !isUuid(sub) || !isUuid(jti)) {
    throw new CallbackFailure("invalid_state", `the state was not issued for ${service}`);
  }
  return {
    userId: sub!,
    service,
    verifier: typeof cv === "string" ? cv : undefined,
    jti: jti!,
    expiresAt: exp!,
  };
}

/** fetch with a deadline, for calls to providers. */
const providerFetch = (input: string | URL, init?: RequestInit) =>
  fetch(input, { ...init, signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });

const ServiceParam = z.object({
  service: z.string().regex(/^[a-z0-9_]{1,63}$/).openapi({
    param: { name: "service", in: "path" },
    example: "github",
  }),
});

const Connection = z.object({
  id: z.uuid(),
  service: z.string().openapi({ example: "github" }),
  label: z.string().nullable(),
  provider_account_id: z.string().nullable(),
  provider_login: z.string().nullable(),
  provider_email: z.string().nullable(),
  scopes: z.array(z.string()),
  status: z.enum(Constants.public.Enums.connection_status),
  last_error: z.string().nullable().openapi({ description: "Why it is not active, in words a user can act on." }),
  token_expires_at: z.string().nullable(),
  created_at: z.string(),
}).openapi("Connection");

/** A connection as the api shows it (never a credential), over `public.user_services us join public.services s`. */
const connectionJson = (tx: Transaction) =>
  tx`jsonb_build_object(
       'id', us.id, 'service', s.key, 'label', us.label, 'provider_account_id', us.provider_account_id,
       'provider_login', us.provider_login, 'provider_email', us.provider_email, 'scopes', us.scopes,
       'status', us.status, 'last_error', us.last_error, 'token_expires_at', us.token_expires_at,
       'created_at', us.created_at)`;

const ApiKeyConnectionInput = z.strictObject({
  service: z.string().min(1).max(63).openapi({
    example: "discord",
    description: "A service whose `auth_kind` is `api_key` (GET /services).",
  }),
  credentials: z.record(z.string(), z.unknown()).openapi({
    description:
      "What the service's `credentials_schema` (GET /services) describes; secret fields are never shown again.",
    example: { bot_token: "MTA1…" },
  }),
  label: z.string().trim().min(1).max(100).optional().openapi({
    description: "Your name for the connection; an update without it keeps the current one.",
  }),
}).openapi("ApiKeyConnectionInput");

const CallbackQuery = z.object({
  code: z.string().optional().openapi({ description: "The authorization code (on success)." }),
  state: z.string().optional().openapi({ description: "The state issued by authorize." }),
  error: z.string().optional().openapi({ description: "The provider's error (access_denied, …)." }),
  error_description: z.string().optional(),
});

function unknownService(service: string): ApiError {
  return new ApiError(404, "not_found", `No service "${service}"`);
}

export function connectionRoutes(app: OpenAPIHono<AuthEnv>) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/connections",
      tags,
      security,
      summary: "List your connections (never their credentials)",
      responses: {
        200: {
          description: "Connections, newest first",
          content: {
            "application/json": { schema: z.object({ items: z.array(Connection) }).openapi("ConnectionList") },
          },
        },
        ...errors(401, 503),
      },
    }),
    async (c) => {
      const rows = await asCaller(
        c.var.caller.claims,
        (tx) =>
          tx`select ${connectionJson(tx)} as connection
             from public.user_services us join public.services s on s.id = us.service_id
             where us.user_id = ${c.var.caller.id}::uuid
             order by us.created_at desc, us.id desc`,
      );
      return c.json({ items: rows.map((row) => row.connection as z.infer<typeof Connection>) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/connections",
      tags,
      security,
      summary: "Connect an account of an api_key service (a bot token, a key): checked at the provider, then stored",
      description:
        "The credentials must match the service's `credentials_schema` (422 naming the field and rule), and " +
        "the provider must accept them (422 `credentials_refused` otherwise; 503 with Retry-After when it cannot be " +
        "reached). They are stored encrypted and never shown again. Posting credentials of an account you already " +
        "connected replaces its credentials and makes it active again (200) instead of adding a connection (201). " +
        "OAuth2 services connect with `/connections/{service}/authorize`.",
      request: { body: { required: true, content: { "application/json": { schema: ApiKeyConnectionInput } } } },
      responses: {
        201: { description: "Connected", content: { "application/json": { schema: Connection } } },
        200: {
          description: "The account was connected already: its credentials were replaced",
          content: { "application/json": { schema: Connection } },
        },
        ...errors(400, 401, 413, 415, 422, 503),
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const caller = c.var.caller;
      const found = apiKeyService(input.service);
      const parsed = found.apiKey.credentials.safeParse(input.credentials);
      if (!parsed.success) throw validationError(parsed.error, ["credentials"]);
      const credentials = parsed.data as Record<string, unknown>;

      let account: ProviderAccount;
      try {
        account = await found.apiKey.identity(
          nodeContext(found, {
            ...nodeEgress(),
            credentials,
            log: log.child({ requestId: c.get("requestId"), service: found.key }),
            signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
            env,
          }),
          credentials,
        );
      } catch (error) {
        if (error instanceof RetryableError) {
          const retryAfter = String(providerRetryAfterSeconds(error));
          throw new ApiError(
            503,
            "provider_unavailable",
            `${found.name} could not be reached to check these credentials: retry later`,
            { reason: error.message },
            { "retry-after": retryAfter },
          );
        }
        if (error instanceof AuthError) {
          throw new ApiError(422, "credentials_refused", `${found.name} refused these credentials`, {
            reason: error.message,
          });
        }
        if (error instanceof PermanentError) {
          throw new ApiError(422, "credentials_not_verified", `${found.name} could not verify these credentials`, {
            reason: error.message,
          });
        }
        throw error;
      }

      const sealed = await seal(await credentialKeyring(), JSON.stringify(credentials));
      const { connection, existed } = await asService(async (tx) => {
        const [{ existed }] = await tx`
          select exists (
            select from public.user_services us join public.services s on s.id = us.service_id
            where us.user_id = ${caller.id}::uuid and s.key = ${found.key} and us.provider_account_id = ${account.id}
          ) as existed`;
        const [{ id }] = await tx`
          select private.store_connection(
            ${caller.id}::uuid, ${found.key}, ${account.id}, ${account.login}, null, '{}'::text[], null,
            ${sealed.keyId}, ${sealed.ciphertext}
          ) as id`;
        if (input.label !== undefined) {
          await tx`update public.user_services set label = ${input.label} where id = ${id}::uuid`;
        }
        const [row] = await tx`
          select ${connectionJson(tx)} as connection
          from public.user_services us join public.services s on s.id = us.service_id
          where us.id = ${id}::uuid`;
        return { connection: row.connection as z.infer<typeof Connection>, existed: existed as boolean };
      });
      log.info(existed ? "connection credentials replaced" : "connection stored", {
        requestId: c.get("requestId"),
        service: found.key,
        connectionId: connection.id,
      });
      if (existed) return c.json(connection, 200);
      return c.json(connection, 201, { location: `/api/connections/${connection.id}` });
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/connections/{service}/authorize",
      tags,
      security,
      summary: "Start connecting an account: the provider's URL to send the browser to",
      description: "The URL carries a state valid 10 minutes, once, for you and this service, and a PKCE challenge " +
        "where the provider supports it. The provider then sends the browser to " +
        "`/functions/v1/api/connections/{service}/callback`, which ends at the frontend.",
      request: { params: ServiceParam },
      responses: {
        200: {
          description: "Where to send the browser",
          content: {
            "application/json": { schema: z.object({ url: z.url() }).openapi("AuthorizeUrl") },
          },
        },
        ...errors(401, 404, 422, 503),
      },
    }),
    async (c) => {
      const { service } = c.req.valid("param");
      const found = declaredService(service);
      if (!found) throw unknownService(service);
      if (!found.oauth2) {
        throw new ApiError(422, "oauth2_not_supported", `${found.name} does not connect with OAuth2`, {
          auth_kind: found.auth,
        });
      }
      const client = oauth2Client(found.oauth2, env);
      if (!client) {
        throw new ApiError(
          503,
          "provider_unavailable",
          `${found.name} is not available on this server: its operator has not set ${found.oauth2.clientIdEnv} and ` +
            found.oauth2.clientSecretEnv,
        );
      }
      const verifier = found.oauth2.pkce ? codeVerifier() : undefined;
      const state = await sealState(c.var.caller.id, service, verifier);
      const url = await authorizeUrl(found.oauth2, env, client, {
        redirectUri: redirectUri(service),
        state,
        verifier,
      });
      return c.json({ url: url.href }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/connections/{service}/callback",
      tags,
      summary: "Where the provider sends the browser back (no token: the state proves the user)",
      description: "Always redirects (302) to AREA_FRONTEND_URL: `?status=connected&service=…&connection=<id>`, or " +
        "`?status=error&service=…&reason=<code>` (invalid_state, expired_state, state_reused, access_denied, " +
        "provider_error, missing_code, provider_unavailable, exchange_failed, identity_failed, server_error). " +
        "Nothing is stored on failure.",
      request: { params: ServiceParam, query: CallbackQuery },
      responses: {
        302: { description: "To the frontend, with the outcome in the query" },
        ...errors(404),
      },
    }),
    async (c) => {
      const { service } = c.req.valid("param");
      const query = c.req.valid("query");
      const requestId = c.get("requestId");
      const frontend = new URL(
        env.AREA_FRONTEND_URL ?? env.SUPABASE_URL ?? "http://127.0.0.1:54321",
      );
      frontend.searchParams.set("service", service);
      const headers = { "cache-control": "no-store", "referrer-policy": "no-referrer" };
      try {
        const connectionId = await completeConnection(service, query);
        frontend.searchParams.set("status", "connected");
        frontend.searchParams.set("connection", connectionId);
        log.info("connection stored", { requestId, service, connectionId });
      } catch (error) {
        const failure = error instanceof CallbackFailure
          ? error
          : new CallbackFailure("server_error", (error as Error)?.stack ?? String(error));
        (failure.reason === "server_error" ? log.error : log.warn)("oauth2 callback refused", {
          requestId,
          service,
          reason: failure.reason,
          error: failure.message,
        });
        frontend.searchParams.set("status", "error");
        frontend.searchParams.set("reason", failure.reason);
      }
      return c.body(null, 302, { ...headers, location: frontend.href });
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/connections/{id}",
      tags,
      security,
      summary: "Delete a connection: its token is revoked at the provider, the AREAs using it are paused",
      description: "Revocation is best effort (a provider that cannot be reached does not keep the connection); " +
        "every AREA using the connection is disabled with a `paused_reason`.",
      request: { params: IdParam },
      responses: { 204: { description: "Deleted" }, ...errors(401, 404, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const caller = c.var.caller;
      const requestId = c.get("requestId");
      const notFound = new ApiError(404, "not_found", `Connection ${id} not found`);
      const [row] = await asCaller(
        caller.claims,
        (tx) =>
          tx`select s.key from public.user_services us join public.services s on s.id = us.service_id
             where us.id = ${id}::uuid and us.user_id = ${caller.id}::uuid`,
      );
      if (!row) throw notFound;
      await revokeAtProvider(row.key as string, id, caller.id, requestId);
      const deleted = await asCaller(
        caller.claims,
        (tx) =>
          tx`delete from public.user_services us where us.id = ${id}::uuid and us.user_id = ${caller.id}::uuid
             returning us.id`,
      );
      if (deleted.length === 0) throw notFound;
      return c.body(null, 204);
    },
  );
}

/** The declared api_key service named `key`, or a 422 naming the `service` field. */
function apiKeyService(key: string): ServiceDefinition & { apiKey: NonNullable<ServiceDefinition["apiKey"]> } {
  const found = declaredService(key);
  const refuse = (rule: string, message: string, details: Record<string, unknown> = {}) =>
    new ApiError(422, "validation_failed", `service: ${message}`, {
      issues: [{ path: "service", rule, message }],
      ...details,
    });
  if (!found) throw refuse("unknown_service", `no service "${key}"`);
  if (!found.apiKey) {
    const how = found.oauth2
      ? `connect it with POST /api/connections/${found.key}/authorize`
      : found.auth === "none"
      ? "it needs no connection"
      : "this server cannot connect it (its credentials are not declared)";
    throw refuse("api_key_service", `${found.name} does not connect with an API key: ${how}`, {
      auth_kind: found.auth,
    });
  }
  return { ...found, apiKey: found.apiKey };
}

/** The callback's work: state, exchange, identity, storage. Throws CallbackFailure with the reason to show. */
async function completeConnection(service: string, query: z.infer<typeof CallbackQuery>): Promise<string> {
  const found = declaredService(service);
  if (!found?.oauth2) throw new CallbackFailure("invalid_state", `no OAuth2 service "${service}"`);
  if (!query.state) throw new CallbackFailure("invalid_state", "the provider sent no state");
  const state = await openState(query.state, service);
  const [{ fresh }] = await asService((tx) =>
    tx`select private.consume_oauth_state(${state.jti}::uuid, to_timestamp(${state.expiresAt})) as fresh`
  );
  if (!fresh) throw new CallbackFailure("state_reused", "this state was used before");
  if (query.error) {
    const reason = query.error === "access_denied" ? "access_denied" : "provider_error";
    throw new CallbackFailure(reason, `the provider answered ${query.error}: ${query.error_description ?? ""}`);
  }
  if (!query.code) throw new CallbackFailure("missing_code", "the provider sent no code");
  const client = oauth2Client(found.oauth2, env);
  if (!client) throw new CallbackFailure("provider_unavailable", `${found.oauth2.clientIdEnv} is not set`);

  const fail = (reason: Reason) => (error: unknown): never => {
    throw error instanceof OAuth2Error ? new CallbackFailure(reason, error.message) : error;
  };
  const grant = await exchangeCode(found.oauth2, env, client, {
    code: query.code,
    redirectUri: redirectUri(service),
    verifier: state.verifier,
  }, providerFetch).catch(fail("exchange_failed"));
  const identity = await fetchIdentity(found.oauth2, env, grant.tokens.access_token, providerFetch)
    .catch(fail("identity_failed"));
  const sealed = await seal(await credentialKeyring(), JSON.stringify(grant.tokens));
  const [{ id }] = await asService((tx) =>
    tx`select private.store_connection(
         ${state.userId}::uuid, ${service}, ${identity.id}, ${identity.login}, ${identity.email},
         ${grant.scopes}::text[], ${grant.tokens.expires_at ?? null}::timestamptz, ${sealed.keyId}, ${sealed.ciphertext}
       ) as id`
  );
  return id as string;
}

/** The connection's credentials in clear, if `userId` owns it and it has any: decrypted only for the call at hand. */
export async function storedCredentials(connectionId: string, userId: string): Promise<Record<string, unknown> | null> {
  const [stored] = await asService((tx) =>
    tx`select key_id, ciphertext from private.connection_credentials(${connectionId}::uuid, ${userId}::uuid)`
  );
  return stored ? JSON.parse(await unseal(await credentialKeyring(), stored.key_id, stored.ciphertext)) : null;
}

/** Best effort: a provider that refuses or cannot be reached is logged, and the connection is deleted anyway. */
async function revokeAtProvider(service: string, id: string, userId: string, requestId: string | undefined) {
  const oauth2 = declaredService(service)?.oauth2;
  if (!oauth2?.revoke) return;
  const fields = { requestId, service, connectionId: id };
  try {
    const client = oauth2Client(oauth2, env);
    if (!client) {
      log.warn("token not revoked: the provider's client is not configured", fields);
      return;
    }
    const tokens = await storedCredentials(id, userId);
    if (typeof tokens?.access_token !== "string") return;
    await revokeToken(oauth2, env, client, tokens.access_token, providerFetch);
    log.info("token revoked at the provider", fields);
  } catch (error) {
    log.warn("token not revoked at the provider", { ...fields, error: (error as Error).message });
  }
}
