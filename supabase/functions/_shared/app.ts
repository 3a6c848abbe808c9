// A Hono app with what every function shares: request ids, access logs, CORS, JSON errors.
import { Hono } from "hono";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { errorBody, handleError } from "./errors.ts";
import { log } from "./log.ts";

export function createApp(basePath: string) {
  const app = new Hono().basePath(basePath);
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
  app.notFound((c) => c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}`), 404));
  app.onError(handleError);
  return app;
}
