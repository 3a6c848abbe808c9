import { z } from "zod";
import { parseParams, type ReactionDefinition } from "../../define.ts";
import { PermanentError } from "../../errors.ts";
import { broadcasterParam, helixRequest, readHelixJson, twitchUser } from "./api.ts";

/** "The message is limited to a maximum of 500 characters." */
const MAX_MESSAGE_LENGTH = 500;

const params = z.object({
  broadcaster: broadcasterParam(
    "The channel whose chat to write in, by login name; blank for the connected account's own channel",
  ),
  message: z.string().trim().min(1).max(MAX_MESSAGE_LENGTH).meta({
    description: `The message (up to ${MAX_MESSAGE_LENGTH} characters; emote names become emotes); ` +
      "{{placeholders}} are filled in",
    placeholder: "We are live: {{stream_type}} since {{started_at}}",
  }),
});

interface SentMessage {
  message_id?: unknown;
  is_sent?: unknown;
  drop_reason?: { code?: unknown; message?: unknown } | null;
}

/**
 * https://dev.twitch.tv/docs/api/reference/#send-chat-message
 * Sent as the connected account (sender_id must be its own id). Twitch has no idempotency key for chat,
 * so none is sent, which also keeps the node fetch from resending the POST on a 5xx: the engine retries
 * the reaction only after a failure, so a message is doubled only when Twitch posted it and its answer
 * was lost. For the same reason an unreadable answer is not retried.
 */
export const sendChatMessage: ReactionDefinition = {
  key: "send_chat_message",
  name: "Send a chat message",
  description: "Writes a message in a channel's chat as the connected account (your own channel by default).",
  params,
  async run(ctx, raw) {
    const { broadcaster, message } = parseParams(params, raw);
    const sender = await twitchUser(ctx, undefined, "sender");
    const channel = broadcaster ? await twitchUser(ctx, broadcaster, "broadcaster") : sender;
    const response = await helixRequest(ctx, {
      method: "POST",
      path: "/helix/chat/messages",
      body: { broadcaster_id: channel.id, sender_id: sender.id, message },
      as: "user",
    });
    const { data } = await readHelixJson<{ data?: SentMessage[] }>(response);
    const sent = data?.[0];
    if (typeof sent?.is_sent !== "boolean") {
      throw new PermanentError("Twitch answered the chat message without is_sent");
    }
    if (!sent.is_sent) {
      // Dropped by the channel's rules (AutoMod, a ban, followers-only, …): sending again would be dropped too.
      const reason = sent.drop_reason;
      const words = typeof reason?.message === "string" && reason.message ? reason.message : "no reason given";
      const code = typeof reason?.code === "string" && reason.code ? ` (${reason.code})` : "";
      throw new PermanentError(`Twitch dropped the chat message in ${channel.login}: ${words}${code}`);
    }
    return { message_id: typeof sent.message_id === "string" ? sent.message_id : "", is_sent: true };
  },
};
