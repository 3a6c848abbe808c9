import { z } from "zod";
import { sha256Hex } from "../../bytes.ts";
import { parseParams, type ReactionDefinition } from "../../define.ts";
import { type DiscordMessage, discordRequest, readDiscordJson } from "./api.ts";
import { channelIdField } from "./channels.ts";
import { EMPTY_MESSAGE, hasBody, messageBody, messageFields } from "./message.ts";

const params = z.object({
  channel_id: channelIdField.meta({
    description: "The channel's id (Discord: User Settings → Advanced → Developer Mode, then right-click → Copy ID)",
    placeholder: "1234567890123456789",
  }),
  ...messageFields,
}).refine(hasBody, { message: EMPTY_MESSAGE, path: ["content"] });

/** Discord's nonce is at most 25 characters; the idempotency key is longer, so its digest stands in. */
const NONCE_LENGTH = 25;

async function nonceOf(idempotencyKey: string): Promise<string> {
  return (await sha256Hex(idempotencyKey)).slice(0, NONCE_LENGTH);
}

/**
 * https://discord.com/developers/docs/resources/message#create-message
 * The message carries a nonce derived from the execution's idempotency key with `enforce_nonce`:
 * Discord returns the message already created with that nonce (within a few minutes) instead of
 * posting it twice, so a retried send is safe.
 */
export const sendMessage: ReactionDefinition = {
  key: "send_message",
  name: "Send a message to a channel",
  description: "Posts a message as your bot in a server channel (the bot needs View Channel and Send Messages there).",
  params,
  async run(ctx, raw) {
    const { channel_id: channelId, ...message } = parseParams(params, raw);
    const response = await discordRequest(ctx, {
      method: "POST",
      path: `/channels/${channelId}/messages`,
      bot: true,
      body: { ...messageBody(message), nonce: await nonceOf(ctx.idempotencyKey), enforce_nonce: true },
      idempotencyKey: ctx.idempotencyKey,
    });
    const sent = await readDiscordJson<DiscordMessage>(response);
    return { id: sent.id, channel_id: sent.channel_id };
  },
};
