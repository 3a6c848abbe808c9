import type { FetchMessageObject, ImapFlow, MessageStructureObject, SearchObject } from "imapflow";
import { z } from "zod";
import {
  type ActionDefinition,
  parseParams,
  type PollContext,
  type PollResult,
  type TriggerEvent,
} from "../../define.ts";
import { PermanentError } from "../../errors.ts";
import { cutText, htmlToText } from "../../text.ts";
import { readCredentials, serverSettings, withImap } from "./api.ts";

const params = z.object({
  mailbox: z.string().trim().min(1).max(500).default("INBOX").meta({
    description: "The mailbox (folder) to watch",
    placeholder: "INBOX",
  }),
  from_contains: z.string().trim().min(1).max(200).optional().meta({
    description: "Only messages whose From contains this text (optional)",
    placeholder: "@example.com",
  }),
  subject_contains: z.string().trim().min(1).max(200).optional().meta({
    description: "Only messages whose subject contains this text (optional)",
  }),
  unseen_only: z.boolean().default(false).meta({
    description: "Only messages not yet read when the poll sees them",
  }),
});

/**
 * Where the mailbox was read up to. UIDs only grow within one UIDVALIDITY (RFC 9051 §2.3.1.1): a new
 * UIDVALIDITY means the mailbox was recreated or renumbered, and the old lastUid means nothing there.
 */
type Cursor = { uidValidity: number; lastUid: number };

/** Messages fired per poll at most; a busier mailbox continues from the cursor at the next poll. */
const MAX_MESSAGES_PER_POLL = 50;
/** Bytes of the text part read for the snippet, and the snippet's length in characters. */
const SNIPPET_BYTES = 4096;
const SNIPPET_LENGTH = 200;

const cursorSchema = z.object({ uidValidity: z.number().int().nonnegative(), lastUid: z.number().int().nonnegative() });

function readCursor(cursor: unknown): Cursor | undefined {
  const parsed = cursorSchema.safeParse(cursor);
  return parsed.success ? parsed.data : undefined;
}

type Filter = z.output<typeof params>;

/** The filter as IMAP SEARCH criteria (FROM, SUBJECT: substring matches; UNSEEN), above `lastUid`. */
function searchQuery(filter: Filter, lastUid: number): SearchObject {
  const query: SearchObject = { uid: `${lastUid + 1}:*` };
  if (filter.from_contains) query.from = filter.from_contains;
  if (filter.subject_contains) query.subject = filter.subject_contains;
  if (filter.unseen_only) query.seen = false;
  return query;
}

async function openMailbox(client: ImapFlow, mailbox: string) {
  try {
    return await client.mailboxOpen(mailbox, { readOnly: true });
  } catch (error) {
    const { responseStatus, responseText } = error as { responseStatus?: string; responseText?: string };
    if (responseStatus !== "NO" && responseStatus !== "BAD") throw error;
    throw new PermanentError(`mailbox "${mailbox}" cannot be opened: ${responseText ?? "refused"}`, { cause: error });
  }
}

/** The part to take a snippet from: the first text/plain that is not an attachment, else the first text/html. */
function textPart(structure: MessageStructureObject | undefined): { part: string; html: boolean } | undefined {
  const leaves: MessageStructureObject[] = [];
  const walk = (node: MessageStructureObject) => {
    if (node.childNodes?.length) node.childNodes.forEach(walk);
    else if (node.disposition !== "attachment") leaves.push(node);
  };
  if (structure) walk(structure);
  // A message that is not multipart has only part 1 (RFC 9051 §6.4.5), which imapflow leaves unnumbered.
  const pick = (type: string) => leaves.find((leaf) => leaf.type.toLowerCase() === type);
  const plain = pick("text/plain");
  if (plain) return { part: plain.part ?? "1", html: false };
  const html = pick("text/html");
  return html && { part: html.part ?? "1", html: true };
}

/** The start of the message's text, decoded (transfer encoding and charset: imapflow's download), on one line. */
async function snippet(client: ImapFlow, message: FetchMessageObject): Promise<string> {
  const part = textPart(message.bodyStructure);
  if (!part) return "";
  const download = await client.download(String(message.uid), part.part, { uid: true, maxBytes: SNIPPET_BYTES });
  if (!download.content) return "";
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of download.content) text += decoder.decode(chunk as Uint8Array, { stream: true });
  text += decoder.decode();
  return cutText((part.html ? htmlToText(text) : text).replace(/\s+/g, " ").trim(), SNIPPET_LENGTH);
}

const iso = (date: Date | string | undefined) => {
  const parsed = date === undefined ? undefined : new Date(date);
  return parsed && !Number.isNaN(parsed.getTime()) ? parsed.toISOString() : "";
};

function toEvent(message: FetchMessageObject, text: string, mailbox: string, uidValidity: number): TriggerEvent {
  const envelope = message.envelope ?? {};
  const [from] = envelope.from ?? [];
  return {
    dedupeKey: `${uidValidity}:${message.uid}`,
    outputs: {
      uid: message.uid,
      message_id: envelope.messageId ?? "",
      from: from?.address ?? "",
      from_name: from?.name ?? "",
      to: (envelope.to ?? []).map((entry) => entry.address).filter(Boolean).join(", "),
      subject: envelope.subject ?? "",
      date: iso(envelope.date ?? message.internalDate),
      snippet: text,
      mailbox,
    },
  };
}

async function poll(ctx: PollContext, raw: Record<string, unknown>, previous: unknown): Promise<PollResult> {
  const filter = parseParams(params, raw);
  const credentials = readCredentials(ctx);
  return await withImap(ctx, serverSettings(credentials, "imap"), async (client) => {
    const box = await openMailbox(client, filter.mailbox);
    const uidValidity = Number(box.uidValidity);
    // UIDNEXT is what the next message will get: everything below it already exists.
    const current: Cursor = { uidValidity, lastUid: Math.max(0, box.uidNext - 1) };
    const cursor = readCursor(previous);

    // Baseline: nothing already in the mailbox ever fires.
    if (!cursor) return { events: [], cursor: current };
    if (cursor.uidValidity !== uidValidity) {
      ctx.log.warn("the mailbox's UIDVALIDITY changed (recreated or renumbered): starting again from its end", {
        mailbox: filter.mailbox,
        previous: cursor.uidValidity,
        current: uidValidity,
      });
      return { events: [], cursor: current };
    }
    if (current.lastUid <= cursor.lastUid) return { events: [], cursor };

    // `n:*` always includes the newest message, even below n: keep only UIDs above the cursor.
    const found = (await client.search(searchQuery(filter, cursor.lastUid), { uid: true })) || [];
    const fresh = found.filter((uid) => uid > cursor.lastUid).sort((a, b) => a - b);
    const batch = fresh.slice(0, MAX_MESSAGES_PER_POLL);
    // Messages that do not match are passed over too, unless the batch was cut short.
    const lastUid = fresh.length > batch.length ? batch[batch.length - 1] : Math.max(current.lastUid, ...batch);
    if (batch.length === 0) return { events: [], cursor: { uidValidity, lastUid } };

    const messages = await client.fetchAll(batch.join(","), {
      uid: true,
      envelope: true,
      bodyStructure: true,
      internalDate: true,
    }, {
      uid: true,
    });
    // Downloads are commands of their own: they run after the FETCH above has completed.
    const events: TriggerEvent[] = [];
    for (const message of messages.sort((a, b) => a.uid - b.uid)) {
      events.push(toEvent(message, await snippet(client, message), filter.mailbox, uidValidity));
    }
    return { events, cursor: { uidValidity, lastUid } satisfies Cursor };
  });
}

/**
 * Polls an IMAP mailbox by UID: UIDs grow with every message added to a mailbox, so "above the last
 * UID seen, within the same UIDVALIDITY" is exactly what is new. The filter runs on the server (SEARCH).
 */
export const newEmail: ActionDefinition = {
  key: "new_email",
  name: "New email",
  description: "An email arrives in a mailbox of your account (IMAP), optionally only from a sender, with a " +
    "subject, or unread.",
  params,
  outputs: z.object({
    uid: z.number().int().meta({ description: "The message's IMAP UID in the mailbox" }),
    message_id: z.string().meta({ description: "The Message-ID header" }),
    from: z.string().meta({ description: "The sender's address" }),
    from_name: z.string().meta({ description: "The sender's name, if given" }),
    to: z.string().meta({ description: "The recipients' addresses, comma-separated" }),
    subject: z.string().meta({ description: "The subject" }),
    date: z.string().meta({ description: "When it was sent (ISO 8601), from the Date header" }),
    snippet: z.string().meta({ description: `The start of the text (up to ${SNIPPET_LENGTH} characters)` }),
    mailbox: z.string().meta({ description: "The mailbox it arrived in" }),
  }),
  sample: {
    uid: 4242,
    message_id: "<CAF=example@mail.example.com>",
    from: "ada@example.com",
    from_name: "Ada Lovelace",
    to: "you@example.org",
    subject: "Build #42 passed",
    date: "2026-01-01T12:00:00.000Z",
    snippet: "All 318 tests passed in 4 minutes.",
    mailbox: "INBOX",
  },
  trigger: {
    polling: { minIntervalSeconds: 60, defaultIntervalSeconds: 300, poll },
  },
};
