import { z } from "zod";
import {
  type ActionDefinition,
  parseParams,
  type PollContext,
  type PollResult,
  type TriggerEvent,
} from "../../define.ts";
import { PermanentError } from "../../errors.ts";
import { compareSnowflakes, type DiscordMessage, discordRequest, readDiscordJson, snowflake } from "./api.ts";
import { channelIdField } from "./channels.ts";

const params = z.object({
  channel_id: channelIdField.meta({
    description: "The channel to watch (the bot needs View Channel and Read Message History there)",
    placeholder: "1234567890123456789",
  }),
  include_bots: z.boolean().default(false).meta({
    description: "Also fire on messages from bots and webhooks (off by default: an AREA posting to the channel it " +
      "watches would otherwise trigger itself)",
  }),
});

/** The newest message id seen: the next poll asks for messages after it. */
type Cursor = { after: string };

/** Discord's maximum page size. */
const PAGE_SIZE = 100;
/** Pages read per poll at most; a busier channel continues from the cursor at the next poll. */
const MAX_PAGES = 10;
/** Message types that are someone writing: DEFAULT and REPLY (not joins, pins, boosts, …). */
const USER_MESSAGE_TYPES = new Set([0, 19]);

function readCursor(cursor: unknown): Cursor | undefined {
  const after = (cursor as Partial<Cursor> | null | undefined)?.after;
  return typeof after === "string" && snowflake.safeParse(after).success ? { after } : undefined;
}

/** GET /channels/{id}/messages: "an array of message objects from newest to oldest". */
async function messages(ctx: PollContext, channelId: string, query: Record<string, string>): Promise<DiscordMessage[]> {
  const response = await discordRequest(ctx, {
    method: "GET",
    path: `/channels/${channelId}/messages`,
    query,
    bot: true,
  });
  const page = await readDiscordJson<DiscordMessage[]>(response);
  if (!Array.isArray(page)) throw new PermanentError("Discord answered the message list with something else");
  return page;
}

function toEvent(message: DiscordMessage): TriggerEvent {
  return {
    dedupeKey: message.id,
    outputs: {
      id: message.id,
      content: message.content ?? "",
      author: { id: message.author?.id, username: message.author?.username },
      timestamp: message.timestamp,
      channel_id: message.channel_id,
    },
  };
}

async function poll(ctx: PollContext, raw: Record<string, unknown>, previous: unknown): Promise<PollResult> {
  const { channel_id: channelId, include_bots: includeBots } = parseParams(params, raw);
  const cursor = readCursor(previous);

  // Baseline: remember the newest message; nothing before it ever fires. An empty channel starts at 0.
  if (!cursor) {
    const [newest] = await messages(ctx, channelId, { limit: "1" });
    return { events: [], cursor: { after: newest?.id ?? "0" } satisfies Cursor };
  }

  // `after` returns the page of messages right after the id; page forward until a short page.
  const found: DiscordMessage[] = [];
  let after = cursor.after;
  for (let page = 0; page < MAX_PAGES; page++) {
    const batch = await messages(ctx, channelId, { after, limit: String(PAGE_SIZE) });
    const newer = batch.filter((message) => compareSnowflakes(message.id, after) > 0);
    if (newer.length === 0) break;
    found.push(...newer);
    after = newer.reduce((max, message) => compareSnowflakes(message.id, max) > 0 ? message.id : max, after);
    if (batch.length < PAGE_SIZE) break;
  }

  const events = found
    .sort((a, b) => compareSnowflakes(a.id, b.id))
    .filter((message) => USER_MESSAGE_TYPES.has(message.type ?? 0))
    .filter((message) => includeBots || !(message.author?.bot || message.webhook_id))
    .map(toEvent);
  return { events, cursor: { after } satisfies Cursor };
}

/**
 * https://discord.com/developers/docs/resources/message#get-channel-messages
 * Polls the channel with an after-id cursor: snowflakes sort by creation time, so "after the newest
 * seen" is exactly what is new.
 */
export const newMessage: ActionDefinition = {
  key: "new_message",
  name: "New message in a channel",
  description: "A message is posted in a server channel your bot can read. The message text is empty unless the " +
    "bot has the Message Content intent (Developer Portal → Bot) or the message mentions it.",
  params,
  outputs: z.object({
    id: z.string().meta({ description: "The message's id" }),
    content: z.string().meta({ description: "The message text" }),
    author: z.object({ id: z.string(), username: z.string() }).meta({
      description: "Who wrote it: {id, username}",
    }),
    timestamp: z.iso.datetime({ offset: true }).meta({ description: "When it was posted" }),
    channel_id: z.string().meta({ description: "The channel's id" }),
  }),
  sample: {
    id: "1234567890123456789",
    content: "Deploy finished",
    author: { id: "80351110224678912", username: "ada" },
    timestamp: "2026-01-01T12:00:00.000000+00:00",
    channel_id: "1234567890123456700",
  },
  trigger: {
    polling: { minIntervalSeconds: 30, defaultIntervalSeconds: 60, poll },
  },
};
