import { z } from "zod";
import { parseParams, type ReactionDefinition } from "../../define.ts";
import { gmailId, type GmailMessage, gmailRequest, resolveLabel } from "./api.ts";
import { labelField } from "./labels.ts";

const params = z.object({
  message_id: gmailId.meta({
    description: "The message's Gmail id (the `id` output of New email)",
    placeholder: "{{id}}",
  }),
  label: labelField.min(1).meta({
    description: "The label to add, by name or id (Receipts, Work/Clients, STARRED, Label_12); it must exist",
    placeholder: "Receipts",
  }),
});

/**
 * https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.messages/modify
 * Adding a label the message already has changes nothing, so a retried call is harmless.
 */
export const addLabel: ReactionDefinition = {
  key: "add_label",
  name: "Add a label to an email",
  description: "Adds a label to a message in your Gmail mailbox.",
  params,
  async run(ctx, raw) {
    const { message_id: messageId, label } = parseParams(params, raw);
    const { id: labelId } = await resolveLabel(ctx, label);
    const message = await gmailRequest<GmailMessage>(ctx, {
      method: "POST",
      path: `/messages/${encodeURIComponent(messageId)}/modify`,
      body: { addLabelIds: [labelId] },
    });
    return { id: message.id, thread_id: message.threadId, label_ids: message.labelIds ?? [] };
  },
};
