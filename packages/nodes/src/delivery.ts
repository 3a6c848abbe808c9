// The dedupe key of a webhook delivery for senders without a provider-specific delivery id.
import { deliveryId } from "./webhook_auth.ts";

/**
 * The sender's `X-Area-Delivery` header (trimmed, cut to 200 characters), so that a sender
 * retrying with a stable id gets its delivery stored once; without it every request is a new
 * event, keyed by a fresh UUID.
 */
export function deliveryKey(headers: Record<string, string>): string {
  return deliveryId(headers["x-area-delivery"]) ?? crypto.randomUUID();
}
