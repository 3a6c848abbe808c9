// Pieces the providers' webhook verifiers share (services/<provider>/webhook.ts): strict parsing of
// signature and timestamp headers, the replay window, the signed bytes, the handshake replies. Every
// parser answers null on anything malformed, so a verifier refuses it (false) instead of throwing.
import type { WebhookReply, WebhookRequest } from "./define.ts";
import { jsonObject } from "./json.ts";

const encoder = new TextEncoder();
const MAX_DELIVERY_ID_LENGTH = 200;
const RFC_3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const UNIX_SECONDS = /^\d{1,12}$/;

/** The header's value after `prefix` (case-sensitive, as the providers send it), else null. */
export function afterPrefix(value: string | undefined, prefix: string): string | null {
  return value !== undefined && value.startsWith(prefix) ? value.slice(prefix.length) : null;
}

/** The bytes a provider signs: text parts in UTF-8, byte parts (the raw body) as they are, in order. */
export function signedBytes(...parts: (string | Uint8Array)[]): Uint8Array<ArrayBuffer> {
  const encoded = parts.map((part) => typeof part === "string" ? encoder.encode(part) : part);
  const bytes = new Uint8Array(encoded.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of encoded) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/** Epoch milliseconds of an RFC 3339 date-time (Twitch sends nanoseconds: cut to milliseconds), else null. */
export function parseRfc3339(value: string | undefined): number | null {
  const match = value === undefined ? null : RFC_3339.exec(value);
  if (!match) return null;
  const [, date, time, fraction = "", zone] = match;
  const ms = Date.parse(`${date}T${time}${fraction.slice(0, 4)}${zone.toUpperCase()}`);
  return Number.isFinite(ms) ? ms : null;
}

/** Epoch milliseconds of a Unix time in whole seconds written in decimal (Slack, Discord), else null. */
export function parseUnixSeconds(value: string | undefined): number | null {
  return value !== undefined && UNIX_SECONDS.test(value) ? Number(value) * 1000 : null;
}

/**
 * True when `signedAtMs` lies within `windowMs` of when the request arrived, on either side: an older
 * request may be a replay, a later one a forgery prepared in advance (or a clock too far off to trust).
 */
export function withinWindow(signedAtMs: number | null, receivedAt: Date, windowMs: number): boolean {
  return signedAtMs !== null && Math.abs(receivedAt.getTime() - signedAtMs) <= windowMs;
}

/** A provider's delivery or event id as a dedupe key: trimmed, at most 200 characters; null when absent or empty. */
export function deliveryId(value: unknown): string | null {
  if (typeof value !== "string" && typeof value !== "number") return null;
  return String(value).trim().slice(0, MAX_DELIVERY_ID_LENGTH) || null;
}

/** The answer to a verified handshake that lacks what it must carry (a challenge): 400 in the functions' envelope. */
export function invalidHandshake(message: string): WebhookReply {
  return {
    status: 400,
    body: JSON.stringify({ error: { code: "invalid_body", message, details: null } }),
    contentType: "application/json",
  };
}

/** The content type of handshake replies that answer with plain text (a challenge, an empty 200). */
export const TEXT_PLAIN = "text/plain; charset=utf-8";

/**
 * A URL check's reply: the body's `challenge` (a non-empty string) back verbatim as text/plain 200,
 * else a 400 saying `missingMessage`.
 */
export function challengeReply(request: WebhookRequest, missingMessage: string): WebhookReply {
  const challenge = jsonObject(request.body)?.challenge;
  if (typeof challenge === "string" && challenge !== "") {
    return { status: 200, body: challenge, contentType: TEXT_PLAIN };
  }
  return invalidHandshake(missingMessage);
}
