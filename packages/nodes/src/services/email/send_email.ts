import { z } from "zod";
import { parseParams, type ReactionDefinition } from "../../define.ts";
import { addressList, addressOf, messageIdFor } from "../../mail.ts";
import { readCredentials, serverSettings, withSmtp } from "./api.ts";

/** Recipients a message may have (to and cc together): an AREA is not a mailing list. */
const MAX_RECIPIENTS = 50;

const params = z.object({
  to: addressList({
    description: "Recipients, comma-separated",
    placeholder: "ada@example.com, Bob <bob@example.org>",
  }),
  subject: z.string().max(998).transform((subject) => subject.replace(/[\r\n]+\s*/g, " ").trim()).meta({
    description: "The subject (line breaks become spaces)",
  }),
  text: z.string().min(1).max(200_000).meta({ description: "The message as plain text" }),
  html: z.string().max(1_000_000).optional().meta({
    description: "The message as HTML (optional; mail clients that show HTML prefer it to the text)",
  }),
  cc: addressList({
    description: "Copy recipients, comma-separated (optional)",
    placeholder: "team@example.com",
    allowBlank: true,
  }).optional(),
  reply_to: z.string().trim()
    .refine((value) => value === "" || addressOf(value) !== undefined, "must be an email address")
    .optional().meta({ description: "Where replies go, when not to your address (optional)" }),
}).refine((message) => message.to.length + (message.cc?.length ?? 0) <= MAX_RECIPIENTS, {
  message: `at most ${MAX_RECIPIENTS} recipients (to and cc together)`,
  path: ["to"],
});

/**
 * SMTP has no idempotency key. The Message-ID is derived from the execution's idempotency key (in the
 * sender's domain), so a send retried after an ambiguous failure (the connection lost after DATA,
 * before the server's 250) carries the same Message-ID as the first attempt: mail systems and clients
 * that deduplicate by Message-ID show it once, and the output names the same id.
 */
async function messageIdOf(idempotencyKey: string, fromAddress: string): Promise<string> {
  return `<${await messageIdFor(idempotencyKey, fromAddress.slice(fromAddress.lastIndexOf("@") + 1))}>`;
}

/** Addresses as nodemailer reports them (strings, or objects for some transports), as strings. */
const addresses = (list: unknown[]) =>
  list.map((entry) => typeof entry === "string" ? entry : (entry as { address?: string }).address ?? String(entry));

/**
 * Sends a message through the connection's SMTP server, from the connection's address. A recipient
 * the server refuses for good while others are accepted is reported in `rejected` (the message went
 * to the others: retrying would send it twice); every recipient refused is a PermanentError naming
 * them.
 */
export const sendEmail: ReactionDefinition = {
  key: "send_email",
  name: "Send an email",
  description: "Sends an email from your address through your SMTP server.",
  params,
  async run(ctx, raw) {
    const message = parseParams(params, raw);
    const credentials = readCredentials(ctx);
    const messageId = await messageIdOf(ctx.idempotencyKey, credentials.address);
    const sent = await withSmtp(ctx, serverSettings(credentials, "smtp"), (transport) =>
      transport.sendMail({
        from: { name: credentials.display_name ?? "", address: credentials.address },
        to: message.to,
        cc: message.cc,
        replyTo: message.reply_to || undefined,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId,
      }));
    return { message_id: sent.messageId, accepted: addresses(sent.accepted), rejected: addresses(sent.rejected) };
  },
};
