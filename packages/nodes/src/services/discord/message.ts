// What the two Discord message reactions share: the message params (content, embeds, mentions) and
// the JSON body Discord takes for both Create Message and Execute Webhook.
// https://discord.com/developers/docs/resources/message#create-message
// https://discord.com/developers/docs/resources/message#allowed-mentions-object
import { z } from "zod";
import { MAX_CONTENT_LENGTH, MAX_EMBEDS } from "./api.ts";

/** JSON text parsed (blank: absent); any other value as it is. */
function parseJsonText(value: unknown, ctx: { issues: z.core.$ZodRawIssue[] }): unknown {
  if (typeof value !== "string") return value;
  if (value.trim() === "") return undefined;
  try {
    return JSON.parse(value);
  } catch {
    ctx.issues.push({ code: "custom", message: "not valid JSON: expected an array of embed objects", input: value });
    return value;
  }
}

export const messageFields = {
  content: z.string().max(MAX_CONTENT_LENGTH).optional().meta({
    description: `The message text (Markdown, up to ${MAX_CONTENT_LENGTH} characters); {{placeholders}} are filled in`,
    placeholder: "New release: {{title}}",
  }),
  // A json param arrives as a value, or as JSON text when a template rendered it inside a string.
  embeds: z.preprocess(
    parseJsonText,
    z.array(z.record(z.string(), z.unknown())).max(MAX_EMBEDS).optional(),
  ).meta({
    description: `Up to ${MAX_EMBEDS} embed objects as Discord documents them ` +
      '([{"title": "…", "description": "…", "url": "…", "color": 5814783}])',
  }),
  allow_mass_mentions: z.boolean().default(false).meta({
    description: "Let @everyone and @here in the text ping; off by default, so text from an event cannot ping a server",
  }),
};

export type MessageParams = {
  content?: string;
  embeds?: Record<string, unknown>[];
  allow_mass_mentions: boolean;
};

/** A message needs something to show: text or an embed. */
export const hasBody = (params: { content?: string; embeds?: unknown[] }) =>
  (params.content ?? "").trim() !== "" || (params.embeds?.length ?? 0) > 0;

export const EMPTY_MESSAGE = "give the message some content or at least one embed";

/** Create Message / Execute Webhook JSON: mentions limited to users and roles unless mass mentions are allowed. */
export function messageBody(params: MessageParams): Record<string, unknown> {
  return {
    ...(params.content ? { content: params.content } : {}),
    ...(params.embeds?.length ? { embeds: params.embeds } : {}),
    allowed_mentions: { parse: params.allow_mass_mentions ? ["users", "roles", "everyone"] : ["users", "roles"] },
  };
}
