import { z } from "zod";
import { parseParams, type ReactionDefinition } from "../../define.ts";
import { PermanentError } from "../../errors.ts";
import { readCapped } from "../../fetch.ts";
import { cutText } from "../../text.ts";

const params = z.object({
  url: z.url({ protocol: /^https?$/ }).meta({
    description: "The URL to call (http or https)",
    placeholder: "https://example.org/hook",
  }),
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST").meta({ description: "HTTP method" }),
  headers: z.record(z.string(), z.string()).default({}).meta({ description: "Request headers" }),
  body: z.string().optional().meta({ description: "Request body; {{placeholders}} are filled in" }),
});

/**
 * Read this much of the response: a small body read to its end lets the connection return to the
 * pool, a large one is cut off there instead of being downloaded.
 */
const READ_BYTES = 64 * 1024;
/** Recorded in the execution log: enough to see what the endpoint said, small enough to keep. */
const RECORDED_BODY_CHARS = 4096;
const RECORDED_HEADERS = ["content-type", "content-length", "location", "etag", "x-request-id"];

export const request: ReactionDefinition = {
  key: "request",
  name: "Send an HTTP request",
  description: "Calls a URL with the given method, headers and body. Private and loopback addresses are refused.",
  params,
  async run(ctx, raw) {
    const { url, method, headers, body } = parseParams(params, raw);
    if (method === "GET" && body) throw new PermanentError("a GET request cannot carry a body: remove it or use POST");
    const sent = new Headers(headers);
    // The key is stable across retries of this (event, reaction): a receiver that dedupes sees one call.
    if (!sent.has("idempotency-key")) sent.set("idempotency-key", ctx.idempotencyKey);
    const response = await ctx.fetch(url, { method, headers: sent, body: body || undefined });
    const read = await readCapped(response, READ_BYTES);
    return {
      status: response.status,
      headers: Object.fromEntries(RECORDED_HEADERS.flatMap((name) => {
        const value = response.headers.get(name);
        return value === null ? [] : [[name, value]];
      })),
      body: cutText(read.text, RECORDED_BODY_CHARS),
      truncated: read.truncated || read.text.length > RECORDED_BODY_CHARS,
    };
  },
};
