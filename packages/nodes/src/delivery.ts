// The dedupe key of a webhook delivery for senders without a provider-specific delivery id.

const MAX_DELIVERY_ID_LENGTH = 200;

/**
 * The sender's `X-Area-Delivery` header (trimmed, cut to 200 characters), so that a sender
 * retrying with a stable id gets its delivery stored once; without it every request is a new
 * event, keyed by a fresh UUID.
 */
export function deliveryKey(headers: Record<string, string>): string {
  return headers["x-area-delivery"]?.trim().slice(0, MAX_DELIVERY_ID_LENGTH) || crypto.randomUUID();
}
