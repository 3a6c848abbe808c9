import { z } from "zod";
import {
  type ActionDefinition,
  parseParams,
  type PollContext,
  type PollResult,
  type TriggerEvent,
} from "../../define.ts";
import { RetryableError } from "../../errors.ts";
import { decodeHtmlEntities } from "../../text.ts";
import { type GmailMessage, gmailRequest, isNotFound, resolveLabel } from "./api.ts";
import { labelField } from "./labels.ts";

/** Blank text is no filter at all: a form leaves an unused field empty. */
const optionalText = (field: z.ZodString) => field.optional().transform((value) => value === "" ? undefined : value);

const params = z.object({
  query: optionalText(z.string().trim().max(1000)).meta({
    description: "Only email matching this Gmail search, as typed in Gmail's search box (from:, subject:, " +
      "has:attachment, …); empty: every new email",
    placeholder: "from:billing@example.com has:attachment",
  }),
  label: optionalText(labelField).meta({
    description: "Only email with this label, by name or id (INBOX, Receipts, Label_12); empty: any label. " +
      "Your own sent mail, drafts, spam and trash fire only when this names them.",
    placeholder: "INBOX",
  }),
});

/** The mailbox's history point seen last: the next poll asks for what was added after it. */
type Cursor = { history_id: string };

/** Messages fetched per poll at most; the cursor then stops at the last one's history record. */
const MAX_MESSAGES = 100;
/** Messages read at once: Gmail also limits concurrent requests per user. */
const FETCH_CONCURRENCY = 5;
/** System labels that are not mail arriving: they fire only when the label param names them. */
const SKIPPED_LABELS = ["DRAFT", "SENT", "SPAM", "TRASH"];
/** messages.list's largest page, and how many a query check reads at most. */
const SEARCH_PAGE_SIZE = 500;
const MAX_SEARCH_PAGES = 10;
/**
 * How much earlier than the oldest new message the query check searches: Gmail documents `after:` in
 * epoch seconds but not that it compares with internalDate, so a margin keeps a clock skew harmless.
 */
const SEARCH_MARGIN_SECONDS = 3600;

const historyId = z.string().regex(/^\d{1,20}$/);

function readCursor(cursor: unknown): Cursor | undefined {
  const id = (cursor as Partial<Cursor> | null | undefined)?.history_id;
  return historyId.safeParse(id).success ? { history_id: id! } : undefined;
}

const laterId = (a: string, b: string) => BigInt(a) >= BigInt(b) ? a : b;

/** The mailbox's current history id (`users.getProfile`): the point from which mail is new. */
async function currentPoint(ctx: PollContext): Promise<Cursor> {
  const profile = await gmailRequest<{ historyId?: unknown }>(ctx, { method: "GET", path: "/profile" });
  const parsed = historyId.safeParse(profile.historyId);
  if (!parsed.success) throw new RetryableError("Gmail's profile answer has no historyId");
  return { history_id: parsed.data };
}

interface HistoryList {
  history?: { id: string; messagesAdded?: { message: { id: string } }[] }[];
  nextPageToken?: string;
  historyId?: string;
}

/**
 * The ids of messages added since `start` (`users.history.list`, oldest first, page by page) and the
 * cursor to continue from: the mailbox's history id when every page was read, the last record read when
 * MAX_MESSAGES stopped it. A 404 (the start is too old) propagates.
 */
async function addedSince(
  ctx: PollContext,
  start: string,
  labelId: string | undefined,
): Promise<{ ids: string[]; cursor: Cursor }> {
  const ids = new Set<string>();
  let next = start;
  let pageToken: string | undefined;
  do {
    const page = await gmailRequest<HistoryList>(ctx, {
      method: "GET",
      path: "/history",
      query: { startHistoryId: start, historyTypes: "messageAdded", labelId, pageToken },
    });
    for (const record of page.history ?? []) {
      for (const added of record.messagesAdded ?? []) ids.add(added.message.id);
      next = laterId(record.id, next);
    }
    pageToken = page.nextPageToken;
    if (!pageToken && page.historyId) next = laterId(page.historyId, next);
  } while (pageToken && ids.size < MAX_MESSAGES);
  return { ids: [...ids], cursor: { history_id: next } };
}

/** The messages' ids, labels, snippets and the four headers the outputs show; one deleted since is skipped. */
async function metadata(ctx: PollContext, ids: string[]): Promise<GmailMessage[]> {
  const read = async (id: string) => {
    try {
      return await gmailRequest<GmailMessage>(ctx, {
        method: "GET",
        path: `/messages/${encodeURIComponent(id)}`,
        query: { format: "metadata", metadataHeaders: ["From", "To", "Subject", "Date"] },
      });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  };
  const messages: GmailMessage[] = [];
  for (let at = 0; at < ids.length; at += FETCH_CONCURRENCY) {
    const batch = await Promise.all(ids.slice(at, at + FETCH_CONCURRENCY).map(read));
    messages.push(...batch.filter((message) => message !== null));
  }
  return messages;
}

const receivedAt = (message: GmailMessage) => Number(message.internalDate) || Date.now();

/**
 * The messages that match a Gmail search. Gmail cannot search by message id, so this lists the query's
 * results from shortly before the oldest candidate (`after:` in epoch seconds, documented as exact),
 * newest first, until every candidate is found or the results end.
 */
async function matching(ctx: PollContext, query: string, candidates: GmailMessage[]): Promise<GmailMessage[]> {
  if (candidates.length === 0) return [];
  const since = Math.floor(Math.min(...candidates.map(receivedAt)) / 1000) - SEARCH_MARGIN_SECONDS;
  const pending = new Set(candidates.map((message) => message.id));
  const found = new Set<string>();
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_SEARCH_PAGES && pending.size > 0; page++) {
    const answer = await gmailRequest<{ messages?: { id: string }[]; nextPageToken?: string }>(ctx, {
      method: "GET",
      path: "/messages",
      query: { q: `(${query}) after:${since}`, maxResults: String(SEARCH_PAGE_SIZE), pageToken },
    });
    for (const { id } of answer.messages ?? []) if (pending.delete(id)) found.add(id);
    pageToken = answer.nextPageToken;
    if (!pageToken) break;
  }
  return candidates.filter((message) => found.has(message.id));
}

const header = (message: GmailMessage, name: string) =>
  message.payload?.headers?.find((entry) => entry.name.toLowerCase() === name.toLowerCase())?.value ?? "";

function toEvent(message: GmailMessage): TriggerEvent {
  const sent = Date.parse(header(message, "Date"));
  return {
    dedupeKey: message.id,
    outputs: {
      id: message.id,
      thread_id: message.threadId,
      from: header(message, "From"),
      to: header(message, "To"),
      subject: header(message, "Subject"),
      // Gmail's snippet is HTML-escaped text (`&#39;`, `&amp;`): the outputs carry the text itself.
      snippet: decodeHtmlEntities(message.snippet ?? ""),
      date: new Date(Number.isNaN(sent) ? receivedAt(message) : sent).toISOString(),
      label_ids: message.labelIds ?? [],
    },
  };
}

async function poll(ctx: PollContext, raw: Record<string, unknown>, previous: unknown): Promise<PollResult> {
  const { query, label } = parseParams(params, raw);
  // Resolved at every poll, the baseline included: a label deleted or renamed since fails loudly.
  const labelId = label === undefined ? undefined : (await resolveLabel(ctx, label)).id;
  const cursor = readCursor(previous);
  if (!cursor) return { events: [], cursor: await currentPoint(ctx) };

  let added: { ids: string[]; cursor: Cursor };
  try {
    added = await addedSince(ctx, cursor.history_id, labelId);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    // Gmail keeps history for about a week (sometimes hours): past that, start again from now.
    ctx.log.warn(
      "gmail history since the cursor is gone: new_email starts again from now, mail in between does " +
        "not fire",
      { hook_job_id: ctx.hookJobId, start_history_id: cursor.history_id },
    );
    return { events: [], cursor: await currentPoint(ctx) };
  }

  const skipped = SKIPPED_LABELS.filter((id) => id !== labelId);
  const arrived = (await metadata(ctx, added.ids))
    .filter((message) => !message.labelIds?.some((id) => skipped.includes(id)));
  const kept = query === undefined ? arrived : await matching(ctx, query, arrived);
  const events = kept.sort((a, b) => receivedAt(a) - receivedAt(b)).map(toEvent);
  return { events, cursor: added.cursor };
}

/**
 * https://developers.google.com/workspace/gmail/api/guides/sync (partial synchronization)
 * https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.history/list
 * Polls the mailbox's history from a historyId cursor: what was added since is exactly what is new,
 * whatever the search or label.
 */
export const newEmail: ActionDefinition = {
  key: "new_email",
  name: "New email",
  description: "An email arrives in your Gmail mailbox, optionally only those matching a search or with a label.",
  params,
  outputs: z.object({
    id: z.string().meta({ description: "The message's Gmail id" }),
    thread_id: z.string().meta({ description: "The conversation's Gmail id" }),
    from: z.string().meta({ description: "The From header (`Ada <ada@example.com>`)" }),
    to: z.string().meta({ description: "The To header" }),
    subject: z.string().meta({ description: "The subject" }),
    snippet: z.string().meta({ description: "The start of the text, as Gmail shows it in the list" }),
    date: z.iso.datetime().meta({ description: "When it was sent (its Date header, else when Gmail received it)" }),
    label_ids: z.array(z.string()).meta({ description: "Its labels' ids (INBOX, UNREAD, Label_12, …)" }),
  }),
  sample: {
    id: "18c1f2a3b4d5e6f7",
    thread_id: "18c1f2a3b4d5e6f7",
    from: "Ada Lovelace <ada@example.com>",
    to: "you@gmail.com",
    subject: "Invoice #42",
    snippet: "Hi, please find attached the invoice for March.",
    date: "2026-01-01T12:00:00.000Z",
    label_ids: ["INBOX", "UNREAD"],
  },
  trigger: {
    polling: { minIntervalSeconds: 30, defaultIntervalSeconds: 60, poll },
  },
};
