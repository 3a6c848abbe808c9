// Slack's Events API: how a request is authenticated, answered and keyed. Slack signs with the
// app's signing secret (operator env SLACK_SIGNING_SECRET), not with a hook's secret. The slack
// actions build their WebhookTrigger from these pieces (spread `slackWebhook`).
// https://api.slack.com/authentication/verifying-requests-from-slack
// https://api.slack.com/events/url_verification
import type { Env, WebhookReply, WebhookRequest, WebhookTrigger } from "../../define.ts";
import { verifyHmacSha256 } from "../../hmac.ts";
import { jsonObject } from "../../json.ts";
import {
  afterPrefix,
  challengeReply,
  deliveryId,
  parseUnixSeconds,
  signedBytes,
  TEXT_PLAIN,
  withinWindow,
} from "../../webhook_auth.ts";

const SIGNATURE_PREFIX = "v0=";

/** The operator's environment variable holding the Slack app's signing secret. */
export const SLACK_SIGNING_SECRET_ENV = "SLACK_SIGNING_SECRET";

/** Slack: a request timestamp more than five minutes from local time may be a replay. */
export const SLACK_REPLAY_WINDOW_MS = 5 * 60 * 1000;

/**
 * True when `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:" + X-Slack-Request-Timestamp + ":" + raw
 * body>` holds under the app's signing secret, and the timestamp (Unix seconds) is within five
 * minutes of the request's arrival. False without a signing secret.
 */
export async function verifySlackSignature(
  request: WebhookRequest,
  signingSecret: string | undefined,
): Promise<boolean> {
  const timestamp = request.headers["x-slack-request-timestamp"];
  const signature = afterPrefix(request.headers["x-slack-signature"], SIGNATURE_PREFIX);
  if (!signingSecret || timestamp === undefined || signature === null) return false;
  if (!withinWindow(parseUnixSeconds(timestamp), request.receivedAt, SLACK_REPLAY_WINDOW_MS)) return false;
  return await verifyHmacSha256(signingSecret, signedBytes("v0:", timestamp, ":", request.rawBody), signature);
}

/** WebhookTrigger.verify for Slack: the hook's own secret plays no part. */
export function verifySlackRequest(request: WebhookRequest, _secret: string, env?: Env): Promise<boolean> {
  return verifySlackSignature(request, env?.[SLACK_SIGNING_SECRET_ENV]);
}

/** The outer payload's `type`: url_verification, event_callback, app_rate_limited, … */
export function slackPayloadType(request: WebhookRequest): string | null {
  const type = jsonObject(request.body)?.type;
  return typeof type === "string" ? type : null;
}

/** The event's `event_id`, the same on Slack's retries: the dedupe key. */
export function slackEventId(request: WebhookRequest): string | null {
  return deliveryId(jsonObject(request.body)?.event_id);
}

/**
 * `url_verification` (Slack checking the Request URL) gets its `challenge` back as text/plain 200;
 * `app_rate_limited` (Slack saying it drops events for a minute) gets an empty 200. Neither makes an
 * event (a url_verification without a challenge gets 400); event callbacks get null.
 */
export function slackHandshake(request: WebhookRequest): WebhookReply | null {
  switch (slackPayloadType(request)) {
    case "url_verification":
      return challengeReply(request, "The url_verification request has no challenge");
    case "app_rate_limited":
      return { status: 200, body: "", contentType: TEXT_PLAIN };
    default:
      return null;
  }
}

/** The verifier and the handshake of every Slack Events API action. */
export const slackWebhook: Pick<WebhookTrigger, "verify" | "handshake"> = {
  verify: verifySlackRequest,
  handshake: slackHandshake,
};
