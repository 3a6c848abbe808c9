// Twitch EventSub over webhooks: how a message is authenticated, answered and keyed. The twitch
// actions build their WebhookTrigger from these pieces (spread `twitchWebhook`).
// https://dev.twitch.tv/docs/eventsub/handling-webhook-events
import type { WebhookReply, WebhookRequest, WebhookTrigger } from "../../define.ts";
import { verifyHmacSha256 } from "../../hmac.ts";
import { jsonObject } from "../../json.ts";
import {
  afterPrefix,
  challengeReply,
  deliveryId,
  parseRfc3339,
  signedBytes,
  TEXT_PLAIN,
  withinWindow,
} from "../../webhook_auth.ts";

const SIGNATURE_PREFIX = "sha256=";

/** Twitch: reject a message whose timestamp is more than 10 minutes old (and, alike, ahead). */
export const TWITCH_REPLAY_WINDOW_MS = 10 * 60 * 1000;

/** The values of `Twitch-Eventsub-Message-Type`. */
export type TwitchMessageType = "notification" | "webhook_callback_verification" | "revocation";

/**
 * True when `Twitch-Eventsub-Message-Signature: sha256=<hex HMAC-SHA256 of message id + timestamp +
 * raw body>` holds under the subscription's secret (the hook's, given to Twitch at subscribe), and
 * `Twitch-Eventsub-Message-Timestamp` (RFC 3339) is within 10 minutes of the request's arrival.
 */
export async function verifyTwitchSignature(request: WebhookRequest, secret: string): Promise<boolean> {
  const id = request.headers["twitch-eventsub-message-id"];
  const timestamp = request.headers["twitch-eventsub-message-timestamp"];
  const signature = afterPrefix(request.headers["twitch-eventsub-message-signature"], SIGNATURE_PREFIX);
  if (!id || !timestamp || signature === null || secret === "") return false;
  if (!withinWindow(parseRfc3339(timestamp), request.receivedAt, TWITCH_REPLAY_WINDOW_MS)) return false;
  return await verifyHmacSha256(secret, signedBytes(id, timestamp, request.rawBody), signature);
}

/** The message type header, or null (also for a type this code does not know). */
export function twitchMessageType(request: WebhookRequest): TwitchMessageType | null {
  const type = request.headers["twitch-eventsub-message-type"];
  return type === "notification" || type === "webhook_callback_verification" || type === "revocation" ? type : null;
}

/** `Twitch-Eventsub-Message-Id`, the same when Twitch resends a message: the dedupe key. */
export function twitchMessageId(request: WebhookRequest): string | null {
  return deliveryId(request.headers["twitch-eventsub-message-id"]);
}

export interface TwitchRevocation {
  /** The subscription's status: authorization_revoked, user_removed, notification_failures_exceeded, version_removed, … */
  reason: string;
  subscriptionId: string | null;
  subscriptionType: string | null;
}

/** What a `revocation` message says (Twitch stops sending to this subscription), else null. */
export function twitchRevocation(request: WebhookRequest): TwitchRevocation | null {
  if (twitchMessageType(request) !== "revocation") return null;
  const subscription = jsonObject(jsonObject(request.body)?.subscription);
  const text = (value: unknown) => typeof value === "string" && value !== "" ? value : null;
  return {
    reason: text(subscription?.status) ?? "revoked",
    subscriptionId: text(subscription?.id),
    subscriptionType: text(subscription?.type),
  };
}

/**
 * `webhook_callback_verification` gets its `challenge` back verbatim (200, text/plain), which
 * confirms the subscription; a `revocation` gets an empty 200 and `revoked`, so the webhooks
 * function can mark the hook. Neither makes an event (a verification without a challenge gets 400).
 * Notifications, and types this code does not know, get null.
 */
export function twitchHandshake(request: WebhookRequest): WebhookReply | null {
  switch (twitchMessageType(request)) {
    case "webhook_callback_verification":
      return challengeReply(request, "The verification message has no challenge");
    case "revocation":
      return { status: 200, body: "", contentType: TEXT_PLAIN, revoked: { reason: twitchRevocation(request)!.reason } };
    default:
      return null;
  }
}

/** The verifier and the handshake of every Twitch EventSub webhook action. */
export const twitchWebhook: Pick<WebhookTrigger, "verify" | "handshake"> = {
  verify: verifyTwitchSignature,
  handshake: twitchHandshake,
};
