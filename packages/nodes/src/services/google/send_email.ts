import { z } from "zod";
import { base64url } from "../../bytes.ts";
import { parseParams, type ReactionContext, type ReactionDefinition } from "../../define.ts";
import { addressList, messageIdFor } from "../../mail.ts";
import { gmailRequest } from "./api.ts";

const params = z.object({
  to: addressList({ description: "Recipients, separated by commas", placeholder: "ada@example.com" }),
  cc: addressList({
    description: "Copy recipients, separated by commas",
    placeholder: "ada@example.com",
    allowBlank: true,
  }).optional(),
  subject: z.string().max(2000).meta({ description: "The subject; {{placeholders}} are filled in" }),
  text: z.string().max(5_000_000).meta({ description: "The message as plain text; {{placeholders}} are filled in" }),
  html: z.string().max(5_000_000).optional().meta({
    description: "The message as HTML, shown by mail apps that can (the text is then the fallback)",
  }),
});

type Params = z.output<typeof params>;

/**
 * The domain of this reaction's Message-IDs (messageIdFor: the same for every attempt of one event and
 * reaction, so a retry after a send whose answer was lost is found, below, instead of sent twice).
 * `.invalid` (RFC 2606) never collides with ids a real host issues.
 */
const MESSAGE_ID_DOMAIN = "area.invalid";

/**
 * The RFC 2822 message, built by nodemailer's MailComposer (header encoding, folding, multipart). It is
 * loaded here, not at the top: nodemailer is Node-only and the Deno functions load this module.
 */
async function compose(message: Params, messageId: string): Promise<Uint8Array> {
  const { default: MailComposer } = await import("nodemailer/lib/mail-composer");
  return await new MailComposer({
    to: message.to,
    cc: message.cc,
    subject: message.subject,
    text: message.text,
    html: message.html || undefined,
    // No From: Gmail sends from the connected account.
    messageId: `<${messageId}>`,
  }).compile().build();
}

/**
 * The message this reaction already sent, found by its Message-ID (Gmail search's rfc822msgid:).
 * Gmail has no idempotency key for messages.send.
 */
async function sentBefore(ctx: ReactionContext, messageId: string) {
  const found = await gmailRequest<{ messages?: { id: string; threadId: string }[] }>(ctx, {
    method: "GET",
    path: "/messages",
    query: { q: `rfc822msgid:${messageId}`, includeSpamTrash: "true", maxResults: "1" },
  });
  return found.messages?.[0];
}

/** https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.messages/send */
export const sendEmail: ReactionDefinition = {
  key: "send_email",
  name: "Send an email",
  description: "Sends an email from your Gmail address.",
  params,
  async run(ctx, raw) {
    const message = parseParams(params, raw);
    const messageId = await messageIdFor(ctx.idempotencyKey, MESSAGE_ID_DOMAIN);
    const earlier = await sentBefore(ctx, messageId);
    if (earlier) return { id: earlier.id, thread_id: earlier.threadId };
    const sent = await gmailRequest<{ id: string; threadId: string }>(ctx, {
      method: "POST",
      path: "/messages/send",
      body: { raw: base64url(await compose(message, messageId)) },
    });
    return { id: sent.id, thread_id: sent.threadId };
  },
};
