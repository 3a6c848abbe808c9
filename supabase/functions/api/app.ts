// The `api` function: catalogue, AREAs, runs and connections (see DESIGN.md). Public routes first,
// then every other route needs a user's access token; each query runs as that user under RLS.
import { swaggerUI } from "@hono/swagger-ui";
import { bodyLimit } from "hono/body-limit";
import { type AuthEnv, keysFromEnv, requireUser } from "../_shared/auth.ts";
import { createApp } from "../_shared/app.ts";
import { databaseReachable } from "../_shared/db.ts";
import { env } from "../_shared/env.ts";
import { ApiError, errorBody } from "../_shared/errors.ts";
import { areaRoutes } from "./routes/areas.ts";
import { catalogueRoutes, publicCatalogueRoutes } from "./routes/catalogue.ts";
import { connectionRoutes } from "./routes/connections.ts";
import { optionRoutes } from "./routes/options.ts";
import { runRoutes } from "./routes/runs.ts";

/** Largest request body, in bytes (256 KiB): an AREA definition is a few KiB. */
const MAX_BODY_BYTES = 256 * 1024;

const keys = keysFromEnv(env);

export const app = createApp<AuthEnv>("/api");

app.use(bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) =>
    c.json(errorBody("payload_too_large", "The body is larger than 256 KiB", { limit_bytes: MAX_BODY_BYTES }), 413),
}));

// Bodies are JSON: anything else is refused before it is read.
app.use(async (c, next) => {
  const hasBody = (c.req.header("content-length") ?? "0") !== "0" || c.req.header("transfer-encoding") !== undefined;
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (hasBody && type !== "application/json") {
    throw new ApiError(415, "unsupported_media_type", "Send the body as application/json", {
      content_type: type || null,
    });
  }
  await next();
});

app.get("/health", async (c) => {
  if (await databaseReachable()) return c.json({ status: "ok", database: "ok" });
  return c.json(errorBody("database_unavailable", "The database is not reachable"), 503);
});

publicCatalogueRoutes(app);

// GET /connections/:service/callback takes no token: the browser arrives from the provider.
const userPaths = ["/services", "/areas", "/areas/*", "/executions/*", "/connections", "/connections/:id"];
for (const path of [...userPaths, "/services/*", "/connections/:service/authorize"]) app.use(path, requireUser(keys));
catalogueRoutes(app);
optionRoutes(app);
areaRoutes(app);
runRoutes(app);
connectionRoutes(app);

app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
  description: "A Supabase Auth access token (supabase.auth.getSession()).",
});
app.doc31("/openapi.json", (c) => ({
  openapi: "3.1.0",
  info: {
    title: "AREA api",
    version: "1.0.0",
    description: 'AREAs, runs and connections. Errors are {"error":{"code","message","details"}}.',
  },
  servers: [{ url: new URL("/functions/v1", env.SUPABASE_URL ?? new URL(c.req.url).origin).href }],
}));
app.get("/docs", swaggerUI({ url: "./openapi.json", title: "AREA api" }));
