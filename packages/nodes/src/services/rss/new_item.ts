import { z } from "zod";
import { sha256Hex } from "../../bytes.ts";
import { type ActionDefinition, parseParams, type PollContext, type PollResult } from "../../define.ts";
import { PermanentError, RetryableError } from "../../errors.ts";
import { type FeedItem, parseFeed } from "./feed.ts";

const params = z.object({
  url: z.url({ protocol: /^https?$/ }).meta({
    description: "The feed's URL (RSS or Atom)",
    placeholder: "https://example.org/feed.xml",
  }),
});

/**
 * The feed's validators for a conditional GET, and the keys of the items already seen (newest
 * first): at most MAX_SEEN, the current document's always among them.
 */
type Cursor = { etag?: string; last_modified?: string; seen: string[] };

/** Items read per document (newest first); older ones past this are neither fired nor remembered. */
const MAX_ITEMS = 500;
/** Keys remembered across polls. */
const MAX_SEEN = 500;
/** A key longer than this is remembered by its SHA-256, so the cursor stays small. */
const MAX_KEY_CHARS = 200;
/** The largest feed read: past that the document is refused rather than downloaded. */
const MAX_FEED_BYTES = 5 * 1024 * 1024;

const ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, " +
  "text/xml;q=0.9, */*;q=0.5";
const USER_AGENT = "AREA feed reader/0.1";

function readCursor(cursor: unknown): Cursor | undefined {
  if (cursor === null || typeof cursor !== "object") return undefined;
  const { etag, last_modified: lastModified, seen } = cursor as Record<string, unknown>;
  if (!Array.isArray(seen) || !seen.every((key) => typeof key === "string")) return undefined;
  return {
    ...(typeof etag === "string" ? { etag } : {}),
    ...(typeof lastModified === "string" ? { last_modified: lastModified } : {}),
    seen,
  };
}

/** What identifies an item across polls: its guid (Atom id), else its link, else title and date. */
async function itemKey(item: FeedItem): Promise<string | null> {
  const key = item.guid || item.link || (item.title ? `${item.title}|${item.published_at ?? ""}` : "");
  if (!key) return null;
  if (key.length <= MAX_KEY_CHARS) return key;
  return `sha256:${await sha256Hex(key)}`;
}

/** Reads at most MAX_FEED_BYTES and decodes them with the charset the response or the XML declaration names. */
async function readFeed(response: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > MAX_FEED_BYTES) {
          await reader.cancel().catch(() => {});
          throw new PermanentError(`the feed is larger than ${MAX_FEED_BYTES / 1024 / 1024} MiB`);
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof PermanentError) throw error;
      throw new RetryableError(`reading the feed failed: ${(error as Error).message}`, { cause: error });
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return decode(bytes, response.headers.get("content-type"));
}

function decode(bytes: Uint8Array, contentType: string | null): string {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 200));
  const declared = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? "")?.[1] ??
    /^\s*<\?xml[^>]*\sencoding\s*=\s*["']([\w.:-]+)["']/.exec(head)?.[1];
  try {
    return new TextDecoder(declared ?? "utf-8").decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes); // a label the runtime does not know: UTF-8 is the XML default
  }
}

/** Items newest first: by date when every item has one, else in document order (feeds list newest first). */
function newestFirst(items: FeedItem[]): FeedItem[] {
  if (!items.every((item) => item.published_at)) return items;
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => b.item.published_at!.localeCompare(a.item.published_at!) || a.index - b.index)
    .map(({ item }) => item);
}

async function poll(ctx: PollContext, raw: Record<string, unknown>, previous: unknown): Promise<PollResult> {
  const { url } = parseParams(params, raw);
  const cursor = readCursor(previous);

  const headers: Record<string, string> = { accept: ACCEPT, "user-agent": USER_AGENT };
  if (cursor?.etag) headers["if-none-match"] = cursor.etag;
  if (cursor?.last_modified) headers["if-modified-since"] = cursor.last_modified;
  const response = await ctx.fetch(url, { headers });
  // Not modified: nothing new, and the cursor (validators and seen items) stays as it is.
  if (response.status === 304) {
    await response.body?.cancel();
    return { events: [] };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new PermanentError(`GET ${new URL(url).host} answered ${response.status}, not a feed`);
  }
  const feed = parseFeed(await readFeed(response), response.url || url);

  // The document's items, newest first, each once, with its key.
  const current: { key: string; item: FeedItem }[] = [];
  const inDocument = new Set<string>();
  for (const item of newestFirst(feed.items)) {
    if (current.length === MAX_ITEMS) break;
    const key = await itemKey(item);
    if (key === null || inDocument.has(key)) continue;
    inDocument.add(key);
    current.push({ key, item });
  }

  const seen = new Set(cursor?.seen ?? []);
  const next: Cursor = {
    ...(response.headers.get("etag") ? { etag: response.headers.get("etag")! } : {}),
    ...(response.headers.get("last-modified") ? { last_modified: response.headers.get("last-modified")! } : {}),
    // The current items first: while an item is in the feed, it is remembered.
    seen: [...inDocument, ...(cursor?.seen ?? []).filter((key) => !inDocument.has(key))].slice(0, MAX_SEEN),
  };
  // Baseline: remember what is there; nothing old ever fires.
  if (!cursor) return { events: [], cursor: next };

  const events = current
    .filter(({ key }) => !seen.has(key))
    .reverse() // oldest first, so reactions run in the order items were published
    .map(({ key, item }) => ({
      dedupeKey: key,
      outputs: {
        title: item.title,
        link: item.link,
        summary: item.summary,
        ...(item.published_at ? { published_at: item.published_at } : {}),
        author: item.author ?? "",
        guid: item.guid,
        feed_title: feed.title,
      },
    }));
  return { events, cursor: next };
}

/**
 * Polls a feed with a conditional GET (If-None-Match / If-Modified-Since from the last answer's
 * ETag / Last-Modified): an unchanged feed answers 304 and costs nothing.
 */
export const newItem: ActionDefinition = {
  key: "new_item",
  name: "New item in a feed",
  description: "A new item appears in an RSS (0.9x, 1.0, 2.0) or Atom feed. Items are told apart by their guid " +
    "(Atom: id), else their link.",
  params,
  outputs: z.object({
    title: z.string().meta({ description: "The item's title" }),
    link: z.string().meta({ description: "The item's URL" }),
    summary: z.string().meta({
      description: "The item's description as plain text (HTML removed), up to 4000 characters",
    }),
    published_at: z.iso.datetime().optional().meta({
      description: "When it was published (or updated), when the feed says",
    }),
    author: z.string().meta({ description: "The item's author, when the feed names one" }),
    guid: z.string().meta({ description: "The item's guid (Atom: id), when it has one" }),
    feed_title: z.string().meta({ description: "The feed's title" }),
  }),
  sample: {
    title: "Release 2.0",
    link: "https://example.org/posts/release-2-0",
    summary: "What is new in 2.0: faster polling and dark mode.",
    published_at: "2026-01-01T12:00:00.000Z",
    author: "Ada",
    guid: "https://example.org/posts/release-2-0",
    feed_title: "Example blog",
  },
  trigger: {
    polling: { minIntervalSeconds: 60, defaultIntervalSeconds: 300, poll },
  },
};
