// Discord interactions over HTTP: how a request is authenticated, answered and keyed. Discord signs
// with the application's Ed25519 key; its public key is operator env DISCORD_PUBLIC_KEY (hex), not
// a hook's secret. The discord actions build their WebhookTrigger from these pieces (spread
// `discordInteractions`).
// https://discord.com/developers/docs/interactions/receiving-and-responding#security-and-authorization
import type { Env, WebhookReply, WebhookRequest, WebhookTrigger } from "../../define.ts";
import { verifyEd25519 } from "../../ed25519.ts";
import { jsonObject } from "../../json.ts";
import { deliveryId, signedBytes } from "../../webhook_auth.ts";

/** The operator's environment variable holding the application's public key (64 hex characters). */
export const DISCORD_PUBLIC_KEY_ENV = "DISCORD_PUBLIC_KEY";

/** Interaction type PING, which Discord sends to check the endpoint; the answer is PONG (type 1). */
export const DISCORD_PING = 1;

/**
 * True when `X-Signature-Ed25519` (hex) is the Ed25519 signature of `X-Signature-Timestamp` + raw
 * body under the application's public key. False without a key or with any malformed header.
 */
export async function verifyDiscordSignature(
  request: WebhookRequest,
  publicKeyHex: string | undefined,
): Promise<boolean> {
  const signature = request.headers["x-signature-ed25519"];
  const timestamp = request.headers["x-signature-timestamp"];
  if (!publicKeyHex || !signature || !timestamp) return false;
  return await verifyEd25519(publicKeyHex.trim(), signedBytes(timestamp, request.rawBody), signature);
}

/** WebhookTrigger.verify for Discord: the hook's own secret plays no part. */
export function verifyDiscordRequest(request: WebhookRequest, _secret: string, env?: Env): Promise<boolean> {
  return verifyDiscordSignature(request, env?.[DISCORD_PUBLIC_KEY_ENV]);
}

/** The interaction's `type` (1 PING, 2 APPLICATION_COMMAND, 3 MESSAGE_COMPONENT, …), or null. */
export function discordInteractionType(request: WebhookRequest): number | null {
  const type = jsonObject(request.body)?.type;
  return typeof type === "number" ? type : null;
}

/** The interaction's snowflake `id`: the dedupe key. */
export function discordInteractionId(request: WebhookRequest): string | null {
  return deliveryId(jsonObject(request.body)?.id);
}

/** A PING gets the PONG `{"type":1}` (application/json) and makes no event. */
export function discordHandshake(request: WebhookRequest): WebhookReply | null {
  if (discordInteractionType(request) !== DISCORD_PING) return null;
  return { status: 200, body: '{"type":1}', contentType: "application/json" };
}

/** The verifier and the handshake of every Discord interactions action. */
export const discordInteractions: Pick<WebhookTrigger, "verify" | "handshake"> = {
  verify: verifyDiscordRequest,
  handshake: discordHandshake,
};
