// POST /webhooks/slack: the Request URL of the operator's Slack app (Event Subscriptions). Slack calls
// this one URL for every workspace that installed the app, signed with the app's signing secret
// (SLACK_SIGNING_SECRET), so an event names no hook: it is verified here, the url_verification
// handshake answered, and a message event fanned out by ONE SQL call (private.ingest_account_event) to
// every active slack/message_posted hook whose connection is to the event's workspace and whose
// `channel` is the event's, deduplicated per hook on Slack's event_id. Slack wants a 2xx within 3
// seconds or it retries (at once, after 1 and after 5 minutes, with X-Slack-Retry-Num): an event that
// no hook wants, or that is not a message to act on, still gets 200; one that could not be stored
// gets 503, and Slack's retry is stored once.
// https://docs.slack.dev/apis/events-api/ (responding, retries)
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { WebhookRequest } from "../../../packages/nodes/src/define.ts";
import { messagePosted, slackChannelMessage } from "../../../packages/nodes/src/services/slack/message_posted.ts";
import { slack } from "../../../packages/nodes/src/services/slack/service.ts";
import {
  SLACK_SIGNING_SECRET_ENV,
  slackHandshake,
  verifySlackSignature,
} from "../../../packages/nodes/src/services/slack/webhook.ts";
import { database, DatabaseUnavailable, sql } from "../_shared/db.ts";
import { env } from "../_shared/env.ts";
import type { IngestResult } from "./batcher.ts";
import { MAX_BODY_BYTES, parseBody, readCapped } from "./body.ts";
import { reject, withRequestLog } from "./delivery_log.ts";

/** Slack retries an event not answered within 3 seconds: storing it gets 2.5 of them. */
const STORE_TIMEOUT_MS = 2_500;

type Outcome =
  | "accepted"
  | "duplicate"
  | "unmatched"
  | "ignored"
  | "handshake"
  | "unauthorized"
  | "too_large"
  | "invalid_body"
  | "database_unavailable"
  | "error";

/** The one log line of a Slack request. */
type SlackDeliveryLog = {
  requestId: string;
  outcome: Outcome;
  /** X-Slack-Retry-Num: Slack sending the event again. */
  retry?: string;
  eventId?: string;
  teamIds?: string[];
  channel?: string;
  /** Hooks the event matched, and those that stored it now (not as a duplicate). */
  hooks?: number;
  accepted?: number;
  status?: number;
  error?: string;
};

/** Stores the message in every hook it belongs to: one row per matching hook. */
function fanOut(teamIds: string[], channel: string, dedupeKey: string, outputs: Record<string, unknown>) {
  return database(
    sql<{ hook_job_id: string; result: IngestResult }[]>`
      select hook_job_id, result from private.ingest_account_event(
        ${slack.key}, ${messagePosted.key}, ${teamIds}::text[], ${JSON.stringify({ channel })}::text::jsonb,
        ${dedupeKey}, ${JSON.stringify(outputs)}::text::jsonb)`,
    STORE_TIMEOUT_MS,
  );
}

async function receive(c: Context, delivery: SlackDeliveryLog, receivedAt: Date): Promise<Response> {
  const tooLarge = () => reject(c, delivery, "too_large", 413, "payload_too_large", "The body is larger than 1 MiB");
  if (Number(c.req.header("content-length") ?? 0) > MAX_BODY_BYTES) return tooLarge();
  const rawBody = await readCapped(c.req.raw.body, MAX_BODY_BYTES);
  if (!rawBody) return tooLarge();
  // The Events API sends JSON; anything else this app is sent (a slash command's form) acts on nothing.
  const json = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase() === "application/json";
  const { body, invalidJson } = parseBody(rawBody, json);
  const request: WebhookRequest = {
    method: c.req.method,
    headers: Object.fromEntries(c.req.raw.headers),
    query: {},
    rawBody,
    body,
    receivedAt,
  };

  const signingSecret = env[SLACK_SIGNING_SECRET_ENV];
  if (!signingSecret) delivery.error = `${SLACK_SIGNING_SECRET_ENV} is not set: no Slack request can be verified`;
  if (!await verifySlackSignature(request, signingSecret)) {
    return reject(c, delivery, "unauthorized", 401, "unauthorized", "The request could not be authenticated");
  }
  if (invalidJson) return reject(c, delivery, "invalid_body", 400, "invalid_json", "The body is not valid JSON");

  const reply = slackHandshake(request);
  if (reply) {
    delivery.outcome = "handshake";
    return c.body(reply.body, reply.status as ContentfulStatusCode, {
      "content-type": reply.contentType ?? "text/plain; charset=utf-8",
    });
  }

  const message = slackChannelMessage(body);
  if (!message) {
    delivery.outcome = "ignored";
    return c.json({ status: "ignored" }, 200);
  }
  Object.assign(delivery, { eventId: message.event.dedupeKey, teamIds: message.teamIds, channel: message.channel });
  let rows: { hook_job_id: string; result: IngestResult }[];
  try {
    rows = await fanOut(message.teamIds, message.channel, message.event.dedupeKey, message.event.outputs);
  } catch (error) {
    if (!(error instanceof DatabaseUnavailable)) throw error;
    delivery.error = error.message;
    // Slack retries on its own schedule (no Retry-After is read); the retry is stored once.
    return reject(c, delivery, "database_unavailable", 503, "database_unavailable", "The event could not be stored");
  }
  const accepted = rows.filter((row) => row.result.status === "accepted").length;
  delivery.hooks = rows.length;
  delivery.accepted = accepted;
  delivery.outcome = rows.length === 0 ? "unmatched" : accepted > 0 ? "accepted" : "duplicate";
  return c.json({ status: delivery.outcome, hooks: rows.length, accepted }, 200);
}

export async function slackEvents(c: Context): Promise<Response> {
  const delivery: SlackDeliveryLog = {
    requestId: c.get("requestId"),
    outcome: "error",
    retry: c.req.header("x-slack-retry-num"),
  };
  return await withRequestLog("slack event", delivery, () => receive(c, delivery, new Date()));
}
