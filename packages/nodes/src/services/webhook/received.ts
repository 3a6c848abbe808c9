import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";

export const received: ActionDefinition = {
  key: "received",
  name: "Webhook received",
  description:
    "An HTTP POST signed with the AREA's secret (header X-Area-Signature: sha256=<hex HMAC-SHA256>) arrives.",
  params: z.object({}),
  outputs: z.object({
    body: z.unknown().meta({ description: "The request body: parsed JSON, or the raw text" }),
    headers: z.record(z.string(), z.string()).meta({ description: "Request headers, lower-cased names" }),
    query: z.record(z.string(), z.string()).meta({ description: "Query string parameters" }),
    received_at: z.iso.datetime().meta({ description: "When AREA accepted the request (UTC)" }),
  }),
  sample: {
    body: { text: "Hello from a webhook" },
    headers: { "content-type": "application/json" },
    query: {},
    received_at: "2026-01-01T12:00:00.000Z",
  },
  trigger: { webhook: { requiresRegistration: false } },
};
