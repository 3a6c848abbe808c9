// OAuth2 access tokens kept fresh for the nodes (RFC 6749 §6): refreshed AHEAD of expiry before a node
// runs (when user_services.token_expires_at is within the margin), and ONCE after a 401, the node then
// running once more (withTokenRefresh). One refresh per connection at a time across all workers: in a
// transaction on a pooled client, private.lock_connection_credentials() takes the connection's advisory
// lock and re-reads the stored tokens; the provider is asked only if they are still stale (another
// worker may just have refreshed them), the answer is sealed and stored (a rotated refresh token
// replaces the old one, else the old one stays) and the commit releases the lock. The section is
// bounded: the token request by its own timeout, the wait for another worker's lock by lock_timeout,
// and a stuck holder by idle_in_transaction_session_timeout (the server then ends its session).
// A refresh token the provider calls dead (invalid_grant) marks the connection needs_reconnect, which
// pauses its AREAs with the reason; any other failure is a RetryableError and the connection stays.
import { type Keyring, seal } from "@area/nodes/crypto";
import type { Env, NodeContext, ServiceDefinition } from "@area/nodes/define";
import { AuthError, PermanentError, RetryableError } from "@area/nodes/errors";
import type { FetchFunction } from "@area/nodes/fetch";
import type { Logger } from "@area/nodes/log";
import { oauth2Client, OAuth2Error, refreshTokens, type TokenSet } from "@area/nodes/oauth2";
import type pg from "pg";
import type { ContextFactory, ContextOptions } from "./context.ts";
import { credentialsReader, loadLockedCredentials, type StoredCredentials } from "./credentials.ts";

export type Credentials = Record<string, unknown>;

/** A token expiring sooner than this is refreshed before a node uses it. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** Bounds the token request, hence how long a refresh holds the connection's lock. */
const TOKEN_REQUEST_TIMEOUT_MS = 10_000;
/**
 * Added to the request timeout: how long a worker waits for another's refresh of the same connection
 * (longer than one may take), and how long a holder may sit idle in its transaction before the server
 * ends its session, releasing the lock.
 */
const LOCK_SLACK_MS = 5_000;
/** An ahead-of-expiry refresh failing transiently still lets a token valid at least this long serve the run. */
const STILL_VALID_MS = 60_000;
/** Lock not available: lock_timeout expired while another worker held the connection's lock. */
const LOCK_NOT_AVAILABLE = "55P03";

export interface RefresherOptions {
  pool: pg.Pool;
  keyring: Keyring;
  /** The runtime's fetch (the worker's egress), for the token endpoint; its answers are read as they come. */
  fetch: FetchFunction;
  /** Where the OAuth2 clients' ids and secrets and the token URLs' base URLs come from. */
  env: Env;
  marginMs?: number;
  requestTimeoutMs?: number;
}

export interface TokenRefresher {
  /**
   * The connection's credentials for a node run (null without a connection); an OAuth2 access token
   * expiring within the margin is refreshed first.
   */
  credentials(service: ServiceDefinition, connectionId: string | null, log: Logger, signal?: AbortSignal): Promise<
    Credentials | null
  >;
  /**
   * The provider refused `rejected` (a 401): the connection's credentials once refreshed (by this
   * call, or by another worker meanwhile), or null when they cannot be (not OAuth2, no refresh token).
   */
  afterRejection(
    service: ServiceDefinition,
    connectionId: string,
    rejected: Credentials | null,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<Credentials | null>;
}

export function createRefresher(options: RefresherOptions): TokenRefresher {
  const { pool, keyring, env } = options;
  const marginMs = options.marginMs ?? REFRESH_MARGIN_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? TOKEN_REQUEST_TIMEOUT_MS;
  const lockWaitMs = requestTimeoutMs + LOCK_SLACK_MS;
  const read = credentialsReader(pool, keyring);

  const refreshable = (service: ServiceDefinition, stored: StoredCredentials) =>
    service.auth === "oauth2" && service.oauth2 !== undefined && typeof stored.credentials.refresh_token === "string";
  const expiresWithin = (stored: StoredCredentials, ms: number) =>
    stored.tokenExpiresAt !== null && stored.tokenExpiresAt.getTime() - Date.now() < ms;

  /**
   * Refreshes the connection's tokens under its lock if `stale` still holds for them once the lock is
   * held; returns the credentials to use.
   */
  async function refreshUnderLock(
    service: ServiceDefinition,
    connectionId: string,
    stale: (stored: StoredCredentials) => boolean,
    log: Logger,
    signal: AbortSignal | undefined,
  ): Promise<Credentials> {
    const definition = service.oauth2!;
    const oauth = oauth2Client(definition, env);
    if (!oauth) {
      throw new PermanentError(
        `${service.name}'s OAuth2 client is not configured (${definition.clientIdEnv}, ${definition.clientSecretEnv}): the access token cannot be refreshed`,
      );
    }
    const client = await pool.connect();
    let usable = true;
    let open = false;
    try {
      await client.query("begin");
      open = true;
      await client.query(
        "select set_config('lock_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $2, true)",
        [`${lockWaitMs}ms`, `${requestTimeoutMs + LOCK_SLACK_MS}ms`],
      );
      const stored = await loadLockedCredentials(client, keyring, connectionId);
      if (!stale(stored)) {
        await client.query("commit");
        open = false;
        log.info("access token already refreshed", { connectionId, service: service.key });
        return stored.credentials;
      }
      // The token endpoint's answer is read as it comes (refreshTokens tells invalid_grant apart), within the timeout.
      const tokenFetch = (input: string | URL, init?: RequestInit) =>
        options.fetch(new URL(input), {
          ...init,
          signal: AbortSignal.any([AbortSignal.timeout(requestTimeoutMs), ...(signal ? [signal] : [])]),
        });
      let tokens: TokenSet;
      try {
        ({ tokens } = await refreshTokens(
          definition,
          env,
          oauth,
          stored.credentials as unknown as TokenSet,
          tokenFetch,
        ));
      } catch (error) {
        if (error instanceof OAuth2Error && error.code === "invalid_grant") {
          const reason = `${service.name} refused to renew the access token (${error.message})`;
          await client.query("select private.refuse_connection_refresh($1, $2, $3)", [
            connectionId,
            stored.ciphertext,
            reason,
          ]);
          await client.query("commit");
          open = false;
          log.warn("refresh token refused: the connection needs reconnecting", { connectionId, service: service.key });
          throw new AuthError(reason, { cause: error });
        }
        throw new RetryableError(`${service.name}: ${(error as Error).message}`, { cause: error });
      }
      const sealed = await seal(keyring, JSON.stringify(tokens));
      const { rows: [{ kept }] } = await client.query<{ kept: boolean }>(
        "select private.store_refreshed_credentials($1, $2, $3, $4, $5) as kept",
        [connectionId, stored.ciphertext, sealed.keyId, sealed.ciphertext, tokens.expires_at ?? null],
      );
      await client.query("commit");
      open = false;
      if (!kept) {
        // Reconnected by the user while we refreshed the old tokens: theirs are the ones to use.
        log.info("refreshed tokens discarded: the connection was reconnected meanwhile", { connectionId });
        return (await read(connectionId)).credentials;
      }
      log.info("access token refreshed", {
        connectionId,
        service: service.key,
        expiresAt: tokens.expires_at ?? null,
        refreshTokenRotated: tokens.refresh_token !== stored.credentials.refresh_token,
      });
      return tokens as unknown as Credentials;
    } catch (error) {
      if (open) usable = await client.query("rollback").then(() => true, () => false);
      if ((error as { code?: unknown }).code === LOCK_NOT_AVAILABLE) {
        throw new RetryableError(
          `another worker has been refreshing connection ${connectionId}'s token for ${lockWaitMs / 1000} s`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      // A session the server ended (idle_in_transaction_session_timeout) must not go back to the pool.
      client.release(!usable);
    }
  }

  return {
    async credentials(service, connectionId, log, signal) {
      if (connectionId === null) return null;
      const stored = await read(connectionId);
      if (!refreshable(service, stored) || !expiresWithin(stored, marginMs)) return stored.credentials;
      try {
        const stale = (now: StoredCredentials) => refreshable(service, now) && expiresWithin(now, marginMs);
        return await refreshUnderLock(service, connectionId, stale, log, signal);
      } catch (error) {
        if (!(error instanceof RetryableError) || expiresWithin(stored, STILL_VALID_MS)) throw error;
        // The provider is briefly unavailable, the token is not: this run uses it, a later one refreshes.
        log.warn("access token refresh failed; using the current token until it expires", {
          connectionId,
          expiresAt: stored.tokenExpiresAt!.toISOString(),
          error: error.message,
        });
        return stored.credentials;
      }
    },

    async afterRejection(service, connectionId, rejected, log, signal) {
      if (service.auth !== "oauth2" || service.oauth2 === undefined) return null;
      const sameToken = (stored: StoredCredentials) => stored.credentials.access_token === rejected?.access_token;
      const stored = await read(connectionId);
      // Another worker refreshed since this token was read: the node runs again with the new one.
      if (!sameToken(stored)) return stored.credentials;
      if (!refreshable(service, stored)) return null;
      return await refreshUnderLock(service, connectionId, sameToken, log, signal);
    },
  };
}

/**
 * Runs a node with a context for its connection; when the provider refuses the access token (an
 * AuthError, a 401), refreshes it once and runs the node once more. The refused request did nothing
 * at the provider, so running it again is safe. A second refusal, or a connection that cannot refresh,
 * throws the AuthError (the caller marks the connection needs_reconnect).
 */
export async function withTokenRefresh<T>(
  makeContext: ContextFactory,
  options: ContextOptions,
  run: (ctx: NodeContext) => Promise<T>,
): Promise<T> {
  const ctx = await makeContext(options);
  try {
    return await run(ctx);
  } catch (error) {
    if (!(error instanceof AuthError) || options.connectionId === null) throw error;
    const renewed = await makeContext.afterRejection(options, ctx);
    if (!renewed) throw error;
    options.log.info("access token refused; running again with a refreshed one", {
      connectionId: options.connectionId,
    });
    return await run(renewed);
  }
}
