// RSS and Atom documents read into one shape. XML by fast-xml-parser (pure JavaScript: the same in
// Node and Deno; DOCTYPE entities are not expanded, so an entity bomb stays text); the feed formats
// by hand, after the specifications:
//   RSS 2.0 https://www.rssboard.org/rss-specification (0.9x reads the same)
//   RSS 1.0 https://web.resource.org/rss/1.0/spec (items beside the channel, `rdf:about` ids)
//   Atom    RFC 4287 (entries, text constructs, `link rel="alternate"`)
import { XMLParser } from "fast-xml-parser";
import { PermanentError } from "../../errors.ts";
import { isJsonObject } from "../../json.ts";
import { cutText, htmlToText } from "../../text.ts";

export interface FeedItem {
  title: string;
  /** Absolute URL, or "" when the item has none. */
  link: string;
  /** Plain text: HTML tags removed and entities decoded. */
  summary: string;
  /** ISO 8601 (UTC), when the item's date can be read. */
  published_at?: string;
  author?: string;
  /** RSS `guid` or Atom `id` (RSS 1.0: `rdf:about`), "" when absent. */
  guid: string;
}

export interface Feed {
  format: "rss" | "atom";
  title: string;
  items: FeedItem[];
}

/** A summary longer than this is cut: it travels in every event's outputs. */
const MAX_SUMMARY_CHARS = 4000;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  // Values stay strings: a guid "0123" is not the number 123.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  // Character references (&#8217;) are XML too; fast-xml-parser decodes them under this option.
  htmlEntities: true,
  isArray: (name) => ["item", "entry", "link", "author", "category", "contributor"].includes(name),
});

type Node = Record<string, unknown>;

const first = (value: unknown): unknown => Array.isArray(value) ? value[0] : value;
const list = (value: unknown): unknown[] => value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The text of an element: its content, or for an element with children, theirs joined. */
function text(value: unknown): string {
  value = first(value);
  if (value === undefined || value === null) return "";
  if (typeof value !== "object") return String(value).trim();
  const node = value as Node;
  if ("#text" in node) return text(node["#text"]);
  return Object.entries(node)
    .filter(([key]) => !key.startsWith("@_"))
    .flatMap(([, child]) => list(child).map(text))
    .filter(Boolean)
    .join(" ");
}

/** Parses a feed document; anything that is not RSS or Atom is a PermanentError. */
export function parseFeed(xml: string, baseUrl: string): Feed {
  let document: Node;
  try {
    document = parser.parse(xml) as Node;
  } catch (error) {
    throw new PermanentError(`the feed is not well-formed XML: ${(error as Error).message}`);
  }
  if (isJsonObject(document.rss)) return rss(document.rss, baseUrl);
  if (isJsonObject(document["rdf:RDF"])) return rdf(document["rdf:RDF"], baseUrl);
  if (isJsonObject(document.feed)) return atom(document.feed, baseUrl);
  throw new PermanentError("the document is neither an RSS nor an Atom feed");
}

function rss(root: Node, baseUrl: string): Feed {
  const channel = isJsonObject(first(root.channel)) ? first(root.channel) as Node : {};
  const items = list(channel.item).filter(isJsonObject).map((item) => ({
    title: text(item.title),
    link: absolute(text(item.link), baseUrl),
    summary: htmlToText(text(item.description) || text(item["content:encoded"]), MAX_SUMMARY_CHARS),
    published_at: isoDate(text(item.pubDate) || text(item["dc:date"])),
    author: text(item.author) || text(item["dc:creator"]) || undefined,
    guid: text(item.guid),
  }));
  return { format: "rss", title: text(channel.title), items };
}

function rdf(root: Node, baseUrl: string): Feed {
  const channel = isJsonObject(first(root.channel)) ? first(root.channel) as Node : {};
  const items = list(root.item).filter(isJsonObject).map((item) => ({
    title: text(item.title),
    link: absolute(text(item.link), baseUrl),
    summary: htmlToText(text(item.description) || text(item["content:encoded"]), MAX_SUMMARY_CHARS),
    published_at: isoDate(text(item["dc:date"])),
    author: text(item["dc:creator"]) || undefined,
    guid: typeof item["@_rdf:about"] === "string" ? item["@_rdf:about"] : "",
  }));
  return { format: "rss", title: text(channel.title), items };
}

function atom(feed: Node, baseUrl: string): Feed {
  const feedAuthor = authorName(feed.author);
  const items = list(feed.entry).filter(isJsonObject).map((entry) => ({
    title: textConstruct(entry.title),
    link: absolute(alternateLink(entry.link), baseUrl),
    summary: textConstruct(entry.summary ?? entry.content),
    published_at: isoDate(text(entry.published) || text(entry.updated)),
    author: authorName(entry.author) ?? feedAuthor,
    guid: text(entry.id),
  }));
  return { format: "atom", title: textConstruct(feed.title), items };
}

/** An Atom text construct (type text, html or xhtml) as plain text. */
function textConstruct(value: unknown): string {
  const node = first(value);
  const type = isJsonObject(node) ? node["@_type"] : undefined;
  return type === "html"
    ? htmlToText(text(node), MAX_SUMMARY_CHARS)
    : cutText(text(node).replace(/\s+/g, " ").trim(), MAX_SUMMARY_CHARS);
}

function authorName(value: unknown): string | undefined {
  const author = first(value);
  return (isJsonObject(author) ? text(author.name) : text(author)) || undefined;
}

/** `link rel="alternate"` (the default rel), else the first link with an href. */
function alternateLink(value: unknown): string {
  const links = list(value).filter(isJsonObject);
  const alternate = links.find((link) => (link["@_rel"] ?? "alternate") === "alternate" && link["@_href"]) ??
    links.find((link) => link["@_href"]);
  return typeof alternate?.["@_href"] === "string" ? alternate["@_href"] : "";
}

function absolute(link: string, baseUrl: string): string {
  if (!link) return "";
  return URL.parse(link, baseUrl)?.href ?? link;
}

/** RFC 822 (RSS) or RFC 3339 (Atom, Dublin Core) dates as ISO 8601 UTC; undefined when unreadable. */
function isoDate(value: string): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
