import { z } from "zod";
import type { ActionDefinition, WebhookRequest } from "../../define.ts";
import { deliveryKey } from "../../delivery.ts";
import { verifyHmacSha256 } from "../../hmac.ts";
import { afterPrefix } from "../../webhook_auth.ts";

const SIGNATURE_PREFIX = "sha256=";

// Kept out of the `headers` output, which reaction params and execution logs expose: credentials
// (the signature included), hop-by-hop headers, and what proxies add about the sender's address.
const HIDDEN_HEADERS = new Set([
  "x-area-signature",
  "authorization",
  "proxy-authorization",
  "cookie",
  "apikey",
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "forwarded",
  "via",
  "x-real-ip",
  "true-client-ip",
  "cf-connecting-ip",
]);
const HIDDEN_HEADER_PREFIXES = ["x-forwarded-"];

function visibleHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) =>
      !HIDDEN_HEADERS.has(name) && !HIDDEN_HEADER_PREFIXES.some((prefix) => name.startsWith(prefix))
    ),
  );
}

export const received: ActionDefinition = {
  key: "received",
  name: "Webhook received",
  description: "An HTTP POST signed with the AREA's secret (header X-Area-Signature: sha256=<hex HMAC-SHA256 of the " +
    "raw body>) arrives. Senders that retry should send a stable X-Area-Delivery id: a repeated id is stored once.",
  params: z.object({}),
  outputs: z.object({
    body: z.unknown().meta({ description: "The request body: parsed JSON, or the raw text" }),
    headers: z.record(z.string(), z.string()).meta({
      description: "Request headers, lower-cased names, without credentials, hop-by-hop and proxy headers",
    }),
    query: z.record(z.string(), z.string()).meta({ description: "Query string parameters" }),
    received_at: z.iso.datetime().meta({ description: "When AREA accepted the request (UTC)" }),
  }),
  sample: {
    body: { text: "Hello from a webhook" },
    headers: { "content-type": "application/json" },
    query: {},
    received_at: "2026-01-01T12:00:00.000Z",
  },
  trigger: {
    webhook: {
      requiresRegistration: false,
      async verify(request: WebhookRequest, secret: string) {
        const signature = afterPrefix(request.headers["x-area-signature"], SIGNATURE_PREFIX);
        if (signature === null) return false;
        return await verifyHmacSha256(secret, request.rawBody, signature);
      },
      events: (request) => [{
        dedupeKey: deliveryKey(request.headers),
        outputs: {
          body: request.body,
          headers: visibleHeaders(request.headers),
          query: request.query,
          received_at: request.receivedAt.toISOString(),
        },
      }],
    },
  },
};
