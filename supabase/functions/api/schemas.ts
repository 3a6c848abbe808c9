// The api's request and response shapes, declared once: zod validates requests with them and the
// OpenAPI document (/api/openapi.json) is generated from them.
import { z } from "@hono/zod-openapi";
import { Constants } from "../_shared/database.types.ts";

const enums = Constants.public.Enums;

export const ErrorResponse = z.object({
  error: z.object({
    code: z.string().openapi({ example: "validation_failed" }),
    message: z.string().openapi({ example: "reactions[0].params.url: must be an http(s) URL" }),
    details: z.unknown().optional(),
  }),
}).openapi("Error");

/** The error responses a route may give, described once. */
export function errors(...statuses: (400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503)[]) {
  const descriptions = {
    400: "Malformed request (not JSON, bad query)",
    401: "Missing, invalid or expired access token",
    403: "Not allowed",
    404: "No such resource for this user",
    409: "Conflicts with the current state",
    413: "Body larger than 256 KiB",
    415: "Body is not application/json",
    422: "Invalid values; details.issues (or details.path) names the fields",
    429: "Too many requests",
    503: "Database unavailable; retry",
  } as const;
  return Object.fromEntries(statuses.map((status) => [status, {
    description: descriptions[status],
    content: { "application/json": { schema: ErrorResponse } },
  }]));
}

export const IdParam = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" }, example: "0b6d2b0e-5c1a-4c55-9b3f-6d1f3c2a9e10" }),
});

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({
    param: { name: "limit", in: "query" },
    description: "Items per page, 1 to 100 (default 20).",
  }),
  cursor: z.string().max(200).optional().openapi({
    param: { name: "cursor", in: "query" },
    description: "The `next_cursor` of the previous page.",
  }),
});

export function page<T extends z.ZodType>(item: T, name: string) {
  return z.object({
    items: z.array(item),
    next_cursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next page; null at the end." }),
  }).openapi(name);
}

const ParamValues = z.record(z.string(), z.unknown()).openapi({
  description: "Values by param name. Strings may hold {{placeholders}} naming the action's outputs.",
  example: { url: "https://example.org/hook", body: '{"text":"{{body.text}}"}' },
});

const node = {
  service: z.string().min(1).max(63).openapi({ example: "http" }),
  name: z.string().min(1).max(63).openapi({ example: "request" }),
  connection_id: z.uuid().nullable().optional().openapi({ description: "Needed when the service needs an account." }),
  params: ParamValues.default({}),
};

export const ActionInput = z.strictObject({
  ...node,
  polling_interval_seconds: z.int().positive().nullable().optional(),
}).openapi("ActionInput");

export const ReactionInput = z.strictObject({
  ...node,
  continue_on_error: z.boolean().optional().openapi({ description: "Run the next reactions even if this one fails." }),
}).openapi("ReactionInput");

const areaFields = {
  name: z.string().trim().min(1).max(100).openapi({ example: "Push to chat" }),
  description: z.string().max(1000).nullable().optional(),
  enabled: z.boolean().optional().openapi({ description: "Default true." }),
  condition: z.unknown().optional().openapi({
    description: "A JSON Logic rule over the action's outputs; reactions run only when it is truthy.",
  }),
  action: ActionInput,
  reactions: z.array(ReactionInput).min(1).max(10),
};

export const AreaInput = z.strictObject(areaFields).openapi("AreaInput");

export const AreaPatch = z.strictObject({
  name: areaFields.name.optional(),
  description: areaFields.description,
  enabled: areaFields.enabled,
  condition: areaFields.condition,
  action: ActionInput.optional(),
  reactions: areaFields.reactions.optional(),
}).refine((changes) => Object.keys(changes).length > 0, { message: "give at least one field to change" })
  .openapi("AreaPatch");

export const Area = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  enabled: z.boolean(),
  condition: z.unknown(),
  paused_reason: z.string().nullable().openapi({ description: "Why AREA disabled it (a connection was revoked, …)." }),
  action: z.object({
    service: z.string(),
    name: z.string(),
    connection_id: z.uuid().nullable(),
    polling_interval_seconds: z.number().nullable(),
    params: z.record(z.string(), z.unknown()),
  }),
  reactions: z.array(z.object({
    service: z.string(),
    name: z.string(),
    connection_id: z.uuid().nullable(),
    continue_on_error: z.boolean(),
    params: z.record(z.string(), z.unknown()),
  })),
  hook: z.object({
    id: z.uuid(),
    type: z.enum(enums.hook_type),
    status: z.enum(enums.hook_status),
    polling_interval_seconds: z.number().nullable(),
    next_run_at: z.string().nullable(),
  }).nullable(),
  webhook: z.object({
    endpoint: z.string(),
    url: z.url().openapi({ description: "Where the sender POSTs, signed with the secret." }),
    secret: z.string().nullable().openapi({ description: "Shown once, in the answer that creates it; null after." }),
  }).nullable(),
  triggered_count: z.number(),
  last_triggered_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Area");

const status = z.enum(enums.execution_status);

export const Execution = z.object({
  id: z.uuid().openapi({ description: "The execution's id: its event (hook log)." }),
  area_id: z.uuid(),
  origin: z.enum(["event", "test", "replay"]),
  status: z.enum(["pending", ...enums.execution_status]).openapi({
    description: "pending until the worker has started it.",
  }),
  settled: z.boolean().openapi({
    description: "False while the worker still owes it a run (queued, running, retrying).",
  }),
  received_at: z.string(),
  finished_at: z.string().nullable(),
  attempt: z.number().nullable(),
  error_text: z.string().nullable(),
  event: z.unknown().openapi({ description: "The action's outputs." }),
  reactions: z.array(z.object({
    area_reaction_id: z.uuid(),
    position: z.number(),
    service: z.string(),
    name: z.string(),
    status,
    attempt: z.number(),
    idempotency_key: z.string(),
    request: z.unknown().openapi({ description: "The rendered params, secrets redacted." }),
    response: z.unknown(),
    error_text: z.string().nullable(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().nullable(),
  })),
}).openapi("Execution");

export const RunAccepted = z.object({
  execution_id: z.uuid(),
  status: z.literal("queued"),
}).openapi("RunAccepted");
