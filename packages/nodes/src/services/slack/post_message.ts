import { z } from "zod";
import { withOptions } from "../../options.ts";
import { listChannels } from "./channels.ts";
import { parseParams, type ReactionDefinition } from "../../define.ts";
import { slackCall } from "./api.ts";

/** "Truncates text after 40,000 characters" (msg_too_long beyond): refused here, before Slack cuts it. */
export const MAX_TEXT_LENGTH = 40_000;

const params = z.object({
  channel: z.string().trim().regex(
    /^(?:[CDG][A-Z0-9]{2,}|#?[a-z0-9][a-z0-9._-]{0,79})$/,
    "must be a channel id (C0123ABCDEF) or a channel name (#general)",
  ).meta({
    description: "The channel's id (channel details → About, at the bottom) or name; the app must be in it",
    placeholder: "C0123ABCDEF",
  }).apply((field) => withOptions(field, listChannels)),
  text: z.string().min(1).max(MAX_TEXT_LENGTH).meta({
    description: "The message (Slack mrkdwn); {{placeholders}} are filled in",
  }),
  // Empty is allowed so that `{{thread_ts}}` of a message outside any thread posts to the channel.
  thread_ts: z.string().regex(/^(?:\d+\.\d+)?$/, "must be a message's ts (1712345678.000100)").optional().meta({
    description: "Reply in the thread of this message (its ts, e.g. {{ts}}); empty posts to the channel",
  }),
});

/**
 * https://docs.slack.dev/reference/methods/chat.postMessage
 * Idempotency: Slack documents no idempotency key for chat.postMessage (`client_msg_id` belongs to
 * messages Slack's own clients post; it is not an argument), so a retry is not made safe by Slack. The
 * node fetch never resends a POST within the call, and the engine retries the reaction only while it
 * has no recorded success; a message can be posted twice only when Slack posted it but its answer was
 * lost (a timeout, a dropped connection, `internal_error`/`fatal_error`, which Slack says may have done
 * part of the work) and the job's retry posts it again.
 */
export const postMessage: ReactionDefinition = {
  key: "post_message",
  name: "Post a message",
  description: "Posts a message as the app's bot in a channel it was added to, or in a thread.",
  params,
  async run(ctx, raw) {
    const { channel, text, thread_ts: threadTs } = parseParams(params, raw);
    const answer = await slackCall(ctx, "chat.postMessage", {
      channel,
      text,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    return { channel: answer.channel, ts: answer.ts };
  },
};
