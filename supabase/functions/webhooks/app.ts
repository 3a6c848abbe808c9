// The `webhooks` function (DESIGN.md, flow 2): POST /webhooks/:service/:hookJobId. Size and
// content checks, the hook job (cached), the action's verifier and handshake, then ONE SQL call
// that stores the events and enqueues their executions. Reactions never run here. Providers that
// call one URL per application have their own route: POST /webhooks/slack (slack.ts).
import { type Context, Hono } from "hono";
import { requestId } from "hono/request-id";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { WebhookRequest } from "../../../packages/nodes/src/define.ts";
import { errorBody, handleError } from "../_shared/errors.ts";
import { log } from "../_shared/log.ts";
import { LookupCache } from "../_shared/cache.ts";
import { DatabaseUnavailable } from "../_shared/db.ts";
import { env } from "../_shared/env.ts";
import { isUuid } from "../_shared/ids.ts";
import { type Hook, loadHook, recordRevocation, storeBatch } from "./store.ts";
import { IngestBatcher, type IngestResult, NotStored } from "./batcher.ts";
import { MAX_BODY_BYTES, parseBody, readCapped } from "./body.ts";
import { reject, withRequestLog } from "./delivery_log.ts";
import { slackEvents } from "./slack.ts";

const ACCEPTED_TYPES = ["application/json", "application/*+json", "application/x-www-form-urlencoded", "text/*"];
/** What a sender should wait before retrying after a 503. */
const RETRY_AFTER_SECONDS = "5";
/** A NUL character in JSON text (an escape not itself escaped): Postgres jsonb cannot store it. */
const JSON_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * Hook jobs by id, secret included (memory only), for 30 s. Safe to reuse: a hook's service, action,
 * type and secret never change (another action means another hook job), whether it is active is
 * decided by ingest_events at every delivery, and a deleted one is forgotten when ingest_events says
 * so. Only its params may lag behind an edit, by 30 s at most.
 */
const hooks = new LookupCache<Hook>({ load: loadHook, ttlMs: 30_000, missTtlMs: 5_000, maxEntries: 10_000 });

/**
 * Deliveries arriving together are stored together (see batcher.ts), one statement in flight at a
 * time: under load, what queues meanwhile makes the next batch larger, and per event both the
 * database and this isolate work less (measured with the ingest bench on 2 cores, CPU per event:
 * database ~0.23 ms and this isolate ~0.30 ms, against ~0.34 and ~0.39 with 2 statements in
 * flight and ~0.42 and ~0.45 with 4). A quiet endpoint still stores each delivery at once.
 * Payloads are up to 256 KiB each: 4 MiB per statement and 32 MiB waiting keep a burst of large
 * deliveries well inside an edge function's memory.
 */
const batcher = new IngestBatcher({
  store: storeBatch,
  slots: 1,
  maxEvents: 200,
  maxBytes: 4 * 1024 * 1024,
  maxQueued: 5_000,
  maxQueuedBytes: 32 * 1024 * 1024,
  timeoutMs: 10_000,
});

/**
 * A plain Hono app rather than the api's createApp (_shared/app.ts), because this is the hot path:
 * no OpenAPI layer, no generic access log (every delivery writes its own line, below), and CORS
 * as headers prepared before the handler runs, which its response carries as they are (hono/cors
 * touches the response first, and Hono then copies every response, headers included, once more).
 * Same request ids, error envelope and error handler as every function.
 */
export const app = new Hono().basePath("/webhooks");
app.use(requestId());
app.use(async (c, next) => {
  c.header("access-control-allow-origin", "*");
  c.header("access-control-expose-headers", "x-request-id");
  if (c.req.method === "OPTIONS") {
    return c.body(null, 204, {
      "access-control-allow-methods": "POST",
      "access-control-allow-headers": c.req.header("access-control-request-headers") ?? "content-type",
      "access-control-max-age": "3600",
    });
  }
  await next();
});
app.notFound((c) => c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}`), 404));
app.onError(handleError);

type Outcome =
  | "accepted"
  | "duplicate"
  | "ignored"
  | "handshake"
  | "revoked"
  | "inactive"
  | "not_found"
  | "unauthorized"
  | "too_large"
  | "unsupported_media_type"
  | "invalid_body"
  | "database_unavailable"
  | "method_not_allowed"
  | "error";

/** The one log line of a delivery. */
type DeliveryLog = {
  requestId: string;
  hookJobId: string;
  service: string;
  outcome: Outcome;
  hook_log_id: string | null;
  hook_log_ids?: string[];
  events?: number;
  status?: number;
  error?: string;
};

type BodyKind = "json" | "form" | "text";

/** JSON, form-encoded or text; a request without a content type is read as text. Anything else: null. */
function bodyKind(contentType: string | undefined): BodyKind | null {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "") return "text";
  if (type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"))) return "json";
  if (type === "application/x-www-form-urlencoded") return "form";
  if (type.startsWith("text/")) return "text";
  return null;
}

const tooLarge = (c: Context, delivery: DeliveryLog) =>
  reject(c, delivery, "too_large", 413, "payload_too_large", "The body is larger than 1 MiB", {
    limit_bytes: MAX_BODY_BYTES,
  });

const NOT_FOUND = "No webhook at this address";

function unavailable(c: Context, delivery: DeliveryLog, error: Error): Response {
  delivery.error = error.message;
  return reject(
    c,
    delivery,
    "database_unavailable",
    503,
    "database_unavailable",
    "The event could not be stored right now. Retry in a few seconds with the same X-Area-Delivery id: it is stored once.",
    undefined,
    { "retry-after": RETRY_AFTER_SECONDS },
  );
}

async function deliver(c: Context, delivery: DeliveryLog, receivedAt: Date): Promise<Response> {
  // 1. Size and content type, from the headers, before anything is read.
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) {
    return tooLarge(c, delivery);
  }
  const kind = bodyKind(c.req.header("content-type"));
  if (!kind) {
    return reject(
      c,
      delivery,
      "unsupported_media_type",
      415,
      "unsupported_media_type",
      "Send the body as JSON, form-encoded or text",
      { accepted: ACCEPTED_TYPES },
    );
  }

  // 2. The hook: an unknown one, another service's or a polling one all look the same.
  if (!isUuid(delivery.hookJobId)) return reject(c, delivery, "not_found", 404, "not_found", NOT_FOUND);
  let hook: Hook | null;
  try {
    hook = await hooks.get(delivery.hookJobId.toLowerCase());
  } catch (error) {
    if (error instanceof DatabaseUnavailable) return unavailable(c, delivery, error);
    throw error;
  }
  if (!hook || hook.service !== delivery.service || hook.type !== "webhook" || !hook.trigger) {
    if (hook && !hook.trigger) delivery.error = `no webhook trigger for ${hook.service}/${hook.action} in this runtime`;
    return reject(c, delivery, "not_found", 404, "not_found", NOT_FOUND);
  }

  // The body, never more than the limit (a chunked body has no Content-Length to check).
  const rawBody = await readCapped(c.req.raw.body, MAX_BODY_BYTES);
  if (!rawBody) {
    return tooLarge(c, delivery);
  }
  const { body, invalidJson } = parseBody(rawBody, kind === "json");
  const request: WebhookRequest = {
    method: c.req.method,
    headers: Object.fromEntries(c.req.raw.headers), // Headers iterates lower-cased names
    query: c.req.url.includes("?") ? Object.fromEntries(new URL(c.req.url).searchParams) : {},
    rawBody,
    body,
    receivedAt,
  };

  // 3. Authenticity: one answer whatever the reason, so a forger learns nothing.
  const trigger = hook.trigger;
  let authentic = false;
  if (hook.secret !== null) {
    try {
      authentic = await trigger.verify(request, hook.secret, env);
    } catch (error) {
      delivery.error = `verifier failed: ${(error as Error).message}`;
    }
  }
  if (!authentic) {
    return reject(c, delivery, "unauthorized", 401, "unauthorized", "The request could not be authenticated");
  }
  if (invalidJson) {
    return reject(c, delivery, "invalid_body", 400, "invalid_json", "The body is not valid JSON");
  }

  // 4. A provider's URL check gets its answer and makes no event.
  const reply = trigger.handshake?.(request);
  if (reply) {
    delivery.outcome = "handshake";
    if (reply.revoked) {
      // Answered only once recorded: a provider that gets no 2xx tells us again.
      try {
        await recordRevocation(hook.id, reply.revoked.reason);
      } catch (error) {
        if (error instanceof DatabaseUnavailable) return unavailable(c, delivery, error);
        throw error;
      }
      delivery.outcome = "revoked";
      delivery.error = reply.revoked.reason;
    }
    return c.body(reply.body, reply.status as ContentfulStatusCode, {
      "content-type": reply.contentType ?? "text/plain; charset=utf-8",
    });
  }

  const events = trigger.events(request, hook.params);
  delivery.events = events.length;
  if (events.length === 0) {
    delivery.outcome = "ignored";
    return c.json({ status: "ignored", events: [] }, 200);
  }
  const outputs = events.map((event) => JSON.stringify(event.outputs));
  if (outputs.some((json) => JSON_NUL.test(json))) {
    return reject(
      c,
      delivery,
      "invalid_body",
      400,
      "invalid_body",
      "The body holds NUL characters, which cannot be stored",
    );
  }

  // 5. One statement: stored with their execution jobs, or not at all.
  let results: IngestResult[];
  try {
    results = await batcher.ingest({ hookJobId: hook.id, dedupeKeys: events.map((event) => event.dedupeKey), outputs });
  } catch (error) {
    if (error instanceof NotStored) return unavailable(c, delivery, error);
    throw error;
  }

  const accepted = results.flatMap((result) => result.status === "accepted" ? [result.hook_log_id!] : []);
  delivery.hook_log_id = accepted[0] ?? null;
  if (accepted.length > 1) delivery.hook_log_ids = accepted;
  if (results.some((result) => result.status === "unknown_hook")) {
    hooks.delete(hook.id);
    return reject(c, delivery, "not_found", 404, "not_found", NOT_FOUND);
  }
  if (accepted.length > 0) {
    delivery.outcome = "accepted";
    return c.json({ status: "accepted", events: results }, 202);
  }
  if (results.some((result) => result.status === "inactive")) {
    return reject(
      c,
      delivery,
      "inactive",
      409,
      "hook_inactive",
      "This webhook's AREA is disabled, so the event was not stored. Stop sending, or retry once it is enabled again.",
    );
  }
  delivery.outcome = "duplicate";
  return c.json({ status: "duplicate" }, 200);
}

// Slack signs every workspace's events with its app's one key, at its one Request URL (slack.ts).
app.post("/slack", slackEvents);

const route = "/:service/:hookJobId";

app.post(route, async (c) => {
  const receivedAt = new Date();
  const delivery: DeliveryLog = {
    requestId: c.get("requestId"),
    hookJobId: c.req.param("hookJobId"),
    service: c.req.param("service"),
    outcome: "error",
    hook_log_id: null,
  };
  return await withRequestLog("webhook delivery", delivery, () => deliver(c, delivery, receivedAt));
});

app.all(route, (c) => {
  const delivery: DeliveryLog = {
    requestId: c.get("requestId"),
    hookJobId: c.req.param("hookJobId"),
    service: c.req.param("service"),
    outcome: "method_not_allowed",
    hook_log_id: null,
    status: 405,
  };
  log.info("webhook delivery", delivery);
  return c.json(
    errorBody("method_not_allowed", `Webhooks are delivered with POST, not ${c.req.method}`),
    405,
    { allow: "POST" },
  );
});
