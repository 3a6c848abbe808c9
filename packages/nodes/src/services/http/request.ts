import { z } from "zod";
import type { ReactionDefinition } from "../../define.ts";

export const request: ReactionDefinition = {
  key: "request",
  name: "Send an HTTP request",
  description: "Calls a URL with the given method, headers and body. Private and loopback addresses are refused.",
  params: z.object({
    url: z.url({ protocol: /^https?$/ }).meta({
      description: "The URL to call (http or https)",
      placeholder: "https://example.org/hook",
    }),
    method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST").meta({ description: "HTTP method" }),
    headers: z.record(z.string(), z.string()).default({}).meta({ description: "Request headers" }),
    body: z.string().optional().meta({ description: "Request body; {{placeholders}} are filled in" }),
  }),
};
