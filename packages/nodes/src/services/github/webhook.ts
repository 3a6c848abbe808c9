// GitHub webhooks (repository and app hooks): how a delivery is authenticated, answered and keyed.
// The github actions build their WebhookTrigger from these pieces (spread `githubWebhook`).
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
// https://docs.github.com/en/webhooks/webhook-events-and-payloads (delivery headers, `ping`)
import type { WebhookReply, WebhookRequest, WebhookTrigger } from "../../define.ts";
import { verifyHmacSha256 } from "../../hmac.ts";
import { jsonObject, parseJsonObject } from "../../json.ts";
import { afterPrefix, deliveryId } from "../../webhook_auth.ts";

const SIGNATURE_PREFIX = "sha256=";

/**
 * True when `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` holds under the hook's
 * secret (the one AREA gave GitHub when it created the hook). Compared in constant time.
 */
export async function verifyGithubSignature(request: WebhookRequest, secret: string): Promise<boolean> {
  const signature = afterPrefix(request.headers["x-hub-signature-256"], SIGNATURE_PREFIX);
  if (signature === null || secret === "") return false;
  return await verifyHmacSha256(secret, request.rawBody, signature);
}

/** The event name (`X-GitHub-Event`: push, issues, ping, …), or null. */
export function githubEvent(request: WebhookRequest): string | null {
  return request.headers["x-github-event"]?.trim() || null;
}

/** The delivery's GUID (`X-GitHub-Delivery`), the same on a redelivery: the dedupe key. */
export function githubDeliveryId(request: WebhookRequest): string | null {
  return deliveryId(request.headers["x-github-delivery"]);
}

/** GitHub's `ping` (sent when a hook is created) is answered 200 and makes no event. */
export function githubHandshake(request: WebhookRequest): WebhookReply | null {
  if (githubEvent(request) !== "ping") return null;
  return { status: 200, body: '{"status":"pong"}', contentType: "application/json" };
}

/**
 * The event payload: the JSON body, or for hooks created with content type `form` the JSON in the
 * `payload` form field. Null when neither holds an object.
 */
export function githubPayload(request: WebhookRequest): Record<string, unknown> | null {
  const json = jsonObject(request.body);
  if (json || typeof request.body !== "string") return json;
  const field = new URLSearchParams(request.body).get("payload");
  return field === null ? null : parseJsonObject(field);
}

/** The verifier and the handshake of every GitHub webhook action. */
export const githubWebhook: Pick<WebhookTrigger, "verify" | "handshake"> = {
  verify: verifyGithubSignature,
  handshake: githubHandshake,
};
