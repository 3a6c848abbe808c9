// The catalogue, public (about.json, the AREA convention) and for a signed-in user (GET /services,
// with whether they have a connection to each service).
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getConnInfo } from "hono/deno";
import type { AuthEnv } from "../../_shared/auth.ts";
import { Constants } from "../../_shared/database.types.ts";
import { asCaller } from "../../_shared/db.ts";
import { catalogue } from "../catalogue.ts";
import { errors } from "../schemas.ts";
import { credentialsSchemaOf, isAvailable } from "./connections.ts";

const About = z.object({
  client: z.object({ host: z.string().openapi({ example: "203.0.113.7" }) }),
  server: z.object({
    current_time: z.int().openapi({ description: "Epoch seconds", example: 1795000000 }),
    services: z.array(z.object({
      name: z.string(),
      actions: z.array(z.object({ name: z.string(), description: z.string() })),
      reactions: z.array(z.object({ name: z.string(), description: z.string() })),
    })),
  }),
}).openapi("About");

const Field = z.object({
  name: z.string(),
  type: z.string(),
  required: z.boolean(),
  default_value: z.unknown(),
  options: z.array(z.unknown()).nullable(),
  description: z.string().nullable(),
});

const Service = z.object({
  key: z.string(),
  name: z.string(),
  description: z.string(),
  icon: z.string().nullable(),
  auth_kind: z.enum(Constants.public.Enums.auth_kind),
  connected: z.boolean().openapi({ description: "The caller has an active connection to it." }),
  available: z.boolean().openapi({
    description: "Users can connect to it on this server (false: an OAuth2 provider whose client is not configured).",
  }),
  credentials_schema: z.unknown().openapi({
    description: "For `api_key` services, JSON Schema of the credentials POST /connections takes (secret fields: " +
      "`x-area-type: secret`, `writeOnly`); null for others.",
  }),
  actions: z.array(z.object({
    key: z.string(),
    name: z.string(),
    description: z.string(),
    trigger: z.enum(["webhook", "polling"]),
    min_polling_interval_seconds: z.number().nullable(),
    params: z.array(Field),
    params_schema: z.unknown().openapi({ description: "JSON Schema of the params" }),
    outputs_schema: z.unknown().openapi({ description: "JSON Schema of the outputs ({{placeholders}})" }),
    sample: z.unknown(),
  })),
  reactions: z.array(z.object({
    key: z.string(),
    name: z.string(),
    description: z.string(),
    params: z.array(Field),
    params_schema: z.unknown(),
  })),
}).openapi("Service");

/** The caller's address: the first X-Forwarded-For hop (the gateway's view), else the socket's peer. */
function clientHost(c: Context): string {
  const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
  if (forwarded) return forwarded;
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // not served by Deno.serve (an in-process test)
  }
}

export function publicCatalogueRoutes(app: OpenAPIHono<AuthEnv>) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/about.json",
      tags: ["Catalogue"],
      summary: "The AREA convention: the caller's address, the time, and every service's actions and reactions",
      responses: { 200: { description: "about.json", content: { "application/json": { schema: About } } } },
    }),
    async (c) => {
      const services = await catalogue();
      return c.json({
        client: { host: clientHost(c) },
        server: {
          current_time: Math.floor(Date.now() / 1000),
          services: services.map((service) => ({
            name: service.key,
            actions: service.actions.map(({ key, description }) => ({ name: key, description })),
            reactions: service.reactions.map(({ key, description }) => ({ name: key, description })),
          })),
        },
      }, 200);
    },
  );
}

export function catalogueRoutes(app: OpenAPIHono<AuthEnv>) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/services",
      tags: ["Catalogue"],
      security: [{ bearerAuth: [] }],
      summary: "The catalogue, with JSON Schemas, and whether you are connected to each service",
      responses: {
        200: {
          description: "Services",
          content: { "application/json": { schema: z.object({ items: z.array(Service) }) } },
        },
        ...errors(401, 503),
      },
    }),
    async (c) => {
      const [services, connected] = await Promise.all([
        catalogue(),
        asCaller(
          c.var.caller.claims,
          (tx) =>
            tx`select distinct s.key from public.user_services us join public.services s on s.id = us.service_id
             where us.user_id = ${c.var.caller.id}::uuid and us.status = 'active'`,
        ),
      ]);
      const keys = new Set(connected.map((row) => row.key as string));
      return c.json({
        items: services.map((service) => ({
          key: service.key,
          name: service.name,
          description: service.description,
          icon: service.icon,
          auth_kind: service.auth_kind,
          connected: keys.has(service.key),
          available: isAvailable(service.key),
          credentials_schema: credentialsSchemaOf(service.key),
          actions: service.actions.map((action) => ({
            key: action.key,
            name: action.name,
            description: action.description,
            trigger: action.webhook_supported ? "webhook" as const : "polling" as const,
            min_polling_interval_seconds: action.min_polling_interval_seconds,
            params: action.params,
            params_schema: action.params_schema,
            outputs_schema: action.outputs_schema,
            sample: action.sample,
          })),
          reactions: service.reactions.map(({ key, name, description, params, params_schema }) => ({
            key,
            name,
            description,
            params,
            params_schema,
          })),
        })),
      }, 200);
    },
  );
}
