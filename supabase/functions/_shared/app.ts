// A Hono app with what every function shares: request ids, access logs, CORS, JSON errors, and
// OpenAPI routes whose zod validation failures answer 422 with field paths.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Env } from "hono";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { ApiError, errorBody, handleError, validationError } from "./errors.ts";
import { log } from "./log.ts";

export function createApp<E extends Env = Env>(basePath: string) {
  const app = new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (result.success) return;
      // A malformed id names nothing that exists: the same 404 as an unknown or another user's id.
      if (result.target === "param") throw new ApiError(404, "not_found", "No such resource");
      throw validationError(result.error, result.target === "json" ? [] : [result.target]);
    },
  }).basePath(basePath);
  app.use(requestId());
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    log.info("request", {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  });
  app.use(cors({ origin: "*", exposeHeaders: ["x-request-id"], maxAge: 3600 }));
  app.notFound((c) => {
    const allowed = methodsFor(app.routes, c.req.path);
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      return c.json(
        errorBody("method_not_allowed", `${c.req.path} does not take ${c.req.method} (allowed: ${allowed.join(", ")})`),
        405,
        { allow: allowed.join(", ") },
      );
    }
    return c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}`), 404);
  });
  app.onError(handleError);
  return app;
}

/** The methods of the routes (not middleware) whose pattern matches `path`: a 405 tells a client which. */
function methodsFor(routes: readonly { method: string; path: string }[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === "ALL") continue;
    const pattern = route.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+").replace(/\*/g, ".*");
    if (new RegExp(`^${pattern}$`).test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}
