// Dynamic param options: the choices of a param declared with withOptions() (packages/nodes/src/options.ts,
// `"x-area-options": true` in the catalogue's JSON Schema), listed by the provider through one of the
// caller's connections: "pick one of your repositories", not a free text box. The connection is read
// as the caller (someone else's is a 404), its credentials are decrypted here only for the call, the
// loader runs under the nodes' egress rules, and a page is kept a minute per connection, param, cursor
// and filter, so a picker that re-renders does not call the provider again.
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { nodeContext } from "../../../../packages/nodes/src/context.ts";
import { AuthError, PermanentError, RetryableError } from "../../../../packages/nodes/src/errors.ts";
import { InvalidOptionsCursor, optionsLoader, type OptionsPage } from "../../../../packages/nodes/src/options.ts";
import type { AuthEnv, Caller } from "../../_shared/auth.ts";
import { LookupCache } from "../../_shared/cache.ts";
import { asCaller } from "../../_shared/db.ts";
import { nodeEgress } from "../../_shared/egress.ts";
import { declaredService, env } from "../../_shared/env.ts";
import { ApiError, errorBody, providerRetryAfterSeconds } from "../../_shared/errors.ts";
import { log } from "../../_shared/log.ts";
import { ErrorResponse, errors, page } from "../schemas.ts";
import { storedCredentials } from "./connections.ts";

/** How long a page of options is reused: long enough for a picker, short enough to see a new channel soon. */
const CACHE_TTL_MS = 60_000;
const CACHE_MAX_ENTRIES = 1_000;
/** One deadline for a whole load (a loader may make several calls, each with the node fetch's own). */
const LOAD_TIMEOUT_MS = 20_000;

const PathParams = z.object({
  service: z.string().max(63).openapi({ param: { name: "service", in: "path" }, example: "discord" }),
  param: z.string().max(63).openapi({ param: { name: "param", in: "path" }, example: "channel_id" }),
});

const Query = z.object({
  connection_id: z.uuid().openapi({
    param: { name: "connection_id", in: "query" },
    description: "One of your connections to the service, active: the account whose choices are listed.",
  }),
  cursor: z.string().min(1).max(200).optional().openapi({
    param: { name: "cursor", in: "query" },
    description: "The `next_cursor` of the previous page.",
  }),
  q: z.string().trim().max(100).optional().openapi({
    param: { name: "q", in: "query" },
    description: "Keep the options whose label or value contains this (case-insensitive), page by page.",
  }),
});

const ParamOption = z.object({
  value: z.string().openapi({ description: "What to set the param to.", example: "1234567890123456789" }),
  label: z.string().openapi({ description: "What to show.", example: "#general (My server)" }),
}).openapi("ParamOption");

/** What a cache key names: everything a page depends on, the owner included (credentials are read for them). */
interface PageKey {
  service: string;
  param: string;
  connectionId: string;
  userId: string;
  cursor?: string;
  q?: string;
}

const pages = new LookupCache<OptionsPage>({
  load: (key) => loadPage(JSON.parse(key) as PageKey),
  ttlMs: CACHE_TTL_MS,
  missTtlMs: CACHE_TTL_MS,
  maxEntries: CACHE_MAX_ENTRIES,
});

/** Decrypts the connection's credentials and runs the param's loader with them, under the egress rules. */
async function loadPage(key: PageKey): Promise<OptionsPage> {
  const service = declaredService(key.service)!;
  const load = optionsLoader(service, key.param)!;
  // No stored credentials: the loader finds none and says the connection must be redone (AuthError).
  const credentials = await storedCredentials(key.connectionId, key.userId) ?? {};
  const ctx = nodeContext(service, {
    ...nodeEgress(),
    credentials,
    log: log.child({ service: key.service, param: key.param, connectionId: key.connectionId }),
    signal: AbortSignal.timeout(LOAD_TIMEOUT_MS),
    env,
  });
  return await load(ctx, { cursor: key.cursor, q: key.q });
}

interface ConnectionRow {
  service: string;
  status: string;
  last_error: string | null;
}

/** The caller's own connection (RLS shows admins everyone's: the owner is checked too), or undefined. */
async function ownConnection(caller: Caller, id: string): Promise<ConnectionRow | undefined> {
  const [row] = await asCaller(
    caller.claims,
    (tx) =>
      tx`select s.key as service, us.status::text as status, us.last_error
         from public.user_services us join public.services s on s.id = us.service_id
         where us.id = ${id}::uuid and us.user_id = ${caller.id}::uuid`,
  );
  return row as ConnectionRow | undefined;
}

function needsReconnect(serviceName: string, why: string): ApiError {
  return new ApiError(409, "reconnect_required", `The ${serviceName} connection ${why}: connect the account again`);
}

export function optionRoutes(app: OpenAPIHono<AuthEnv>) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/services/{service}/options/{param}",
      tags: ["Catalogue"],
      security: [{ bearerAuth: [] }],
      summary: "The choices of a param with dynamic options (your repositories, your bot's channels, …)",
      description: 'Params whose JSON Schema has `"x-area-options": true` list their choices here, from the ' +
        "provider, with one of your connections to the service. Pages follow `next_cursor`; a page is reused " +
        "for a minute. 409 when the connection must be reconnected, 502 when the provider refuses, 503 (with " +
        "Retry-After) when it is unavailable or rate limits.",
      request: { params: PathParams, query: Query },
      responses: {
        200: {
          description: "A page of options",
          content: { "application/json": { schema: page(ParamOption, "ParamOptions") } },
        },
        ...errors(400, 401, 404, 409, 422),
        502: {
          description: "The provider refused the request (details in the message)",
          content: { "application/json": { schema: ErrorResponse } },
        },
        503: {
          description: "The provider (or the database) is unavailable or rate limits: retry after Retry-After seconds",
          headers: { "retry-after": { schema: { type: "integer" }, description: "Seconds to wait" } },
          content: { "application/json": { schema: ErrorResponse } },
        },
      },
    }),
    async (c) => {
      const { service: serviceKey, param } = c.req.valid("param");
      const { connection_id: connectionId, cursor, q } = c.req.valid("query");
      const service = declaredService(serviceKey);
      if (!service) throw new ApiError(404, "not_found", `No service "${serviceKey}"`);
      if (!optionsLoader(service, param)) {
        throw new ApiError(404, "not_found", `${service.name} has no param "${param}" with options to list`);
      }
      const caller = c.var.caller;
      const connection = await ownConnection(caller, connectionId);
      if (!connection) throw new ApiError(404, "not_found", `Connection ${connectionId} not found`);
      if (connection.service !== service.key) {
        const message =
          `connection_id: connection ${connectionId} is a ${connection.service} connection, not ${service.key}`;
        throw new ApiError(422, "validation_failed", message, {
          issues: [{ path: "connection_id", rule: "service", message: message.slice("connection_id: ".length) }],
        });
      }
      if (connection.status !== "active") {
        const why = connection.status === "revoked" ? "was revoked" : "needs to be reconnected";
        throw needsReconnect(service.name, connection.last_error ? `${why} (${connection.last_error})` : why);
      }

      const filter = q?.toLowerCase() || undefined;
      const key: PageKey = { service: service.key, param, connectionId, userId: caller.id, cursor, q: filter };
      let result: OptionsPage;
      try {
        result = (await pages.get(JSON.stringify(key)))!;
      } catch (error) {
        if (error instanceof InvalidOptionsCursor) {
          // As the api's own pages answer a cursor they did not give out.
          throw new ApiError(400, "invalid_cursor", error.message, { path: "cursor" });
        }
        if (error instanceof AuthError) {
          throw needsReconnect(service.name, `was refused by ${service.name} (${error.message})`);
        }
        if (error instanceof RetryableError) {
          const wait = providerRetryAfterSeconds(error);
          return c.json(
            errorBody("provider_unavailable", `${service.name} cannot list the options now: retry later`, {
              retry_after_seconds: wait,
              reason: error.message,
            }),
            503,
            { "retry-after": String(wait) },
          );
        }
        if (error instanceof PermanentError) {
          throw new ApiError(502, "provider_error", `${service.name} refused to list the options: ${error.message}`);
        }
        throw error;
      }
      return c.json(
        { items: result.options, next_cursor: result.next_cursor ?? null },
        200,
        { "cache-control": `private, max-age=${CACHE_TTL_MS / 1000}` },
      );
    },
  );
}
