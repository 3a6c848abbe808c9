// A local feed server (Node only): serves RSS and Atom documents as a web server or a blog engine
// does, with the validators of RFC 9110: a strong ETag and Last-Modified on every answer, and 304 Not
// Modified to a conditional GET whose If-None-Match matches (or, without If-None-Match, whose
// If-Modified-Since is not older than the document). Records every request for assertions.
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { type Received, startReceiver } from "../receiver.ts";

export type RecordedRequest = Omit<Received, "body">;

export interface FeedDocument {
  /** The document's bytes (a string is sent as UTF-8). */
  body: string | Uint8Array;
  contentType?: string;
  /** Send an ETag (default true). */
  etag?: boolean;
  /** Send Last-Modified (default true): when the document was set, to the second. */
  lastModified?: boolean;
}

export interface FakeFeeds {
  origin: string;
  /** `<origin><path>` */
  url(path: string): string;
  requests: RecordedRequest[];
  /** Serves (or replaces) the document at `path`; its validators change with its bytes. */
  set(path: string, document: FeedDocument): void;
  /** The next answer at `path` is this status (with these headers) instead of the document. */
  fail(path: string, status: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

interface Served {
  body: Uint8Array;
  contentType: string;
  etag: string | undefined;
  lastModified: Date | undefined;
}

export async function startFakeFeeds(): Promise<FakeFeeds> {
  const documents = new Map<string, Served>();
  const failures = new Map<string, { status: number; headers: Record<string, string> }>();
  let version = 0;

  function answer(request: Received, response: ServerResponse) {
    const path = new URL(request.url, "http://fake").pathname;
    const failure = failures.get(path);
    if (failure) {
      failures.delete(path);
      response.writeHead(failure.status, { "content-type": "text/plain", ...failure.headers }).end("failed on purpose");
      return;
    }
    const served = documents.get(path);
    if (!served) {
      response.writeHead(404, { "content-type": "text/html" }).end("<!DOCTYPE html><title>Not found</title>");
      return;
    }
    const validators: Record<string, string> = {};
    if (served.etag) validators.etag = served.etag;
    if (served.lastModified) validators["last-modified"] = served.lastModified.toUTCString();
    // RFC 9110 §13.2.2: If-None-Match is evaluated first; If-Modified-Since only without it.
    const ifNoneMatch = request.headers["if-none-match"];
    const ifModifiedSince = request.headers["if-modified-since"];
    let notModified = false;
    if (ifNoneMatch !== undefined) {
      const tags = ifNoneMatch.split(",").map((tag) => tag.trim().replace(/^W\//, ""));
      notModified = served.etag !== undefined && (tags.includes("*") || tags.includes(served.etag));
    } else if (ifModifiedSince !== undefined && served.lastModified) {
      const since = Date.parse(ifModifiedSince);
      notModified = !Number.isNaN(since) && served.lastModified.getTime() <= since;
    }
    if (notModified) {
      response.writeHead(304, validators).end();
      return;
    }
    response.writeHead(200, {
      "content-type": served.contentType,
      "content-length": String(served.body.length),
      ...validators,
    });
    response.end(request.method === "HEAD" ? undefined : served.body);
  }

  const server = await startReceiver(answer);
  const origin = server.origin;

  return {
    origin,
    url: (path) => `${origin}${path}`,
    requests: server.received,
    set(path, document) {
      const body = typeof document.body === "string" ? new TextEncoder().encode(document.body) : document.body;
      const hash = createHash("sha256").update(body).digest("base64url").slice(0, 16);
      // Whole seconds, as HTTP dates have; each new version a second later than the one before, so
      // If-Modified-Since tells them apart however fast a test sets them.
      version++;
      const lastModified = new Date(Math.floor(Date.now() / 1000) * 1000 + version * 1000);
      documents.set(path, {
        body,
        contentType: document.contentType ?? "application/rss+xml; charset=utf-8",
        etag: document.etag === false ? undefined : `"${hash}"`,
        lastModified: document.lastModified === false ? undefined : lastModified,
      });
    },
    fail: (path, status, headers = {}) => failures.set(path, { status, headers }),
    close: server.close,
  };
}

export interface RssItem {
  title?: string;
  link?: string;
  guid?: string;
  description?: string;
  pubDate?: string;
  author?: string;
}

const escape = (value: string) =>
  value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const element = (name: string, value: string | undefined) =>
  value === undefined ? "" : `<${name}>${escape(value)}</${name}>`;

/** An RSS 2.0 document, items in the order given (newest first, as feeds list them). */
export function rssDocument(title: string, items: RssItem[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>${escape(title)}</title>
    <link>https://blog.example/</link>
    <description>A feed for tests</description>
${
    items.map((item) =>
      `    <item>${element("title", item.title)}${element("link", item.link)}${element("guid", item.guid)}${
        element("description", item.description)
      }${element("pubDate", item.pubDate)}${element("dc:creator", item.author)}</item>`
    ).join("\n")
  }
  </channel>
</rss>
`;
}

export interface AtomEntry {
  id: string;
  title: string;
  /** rel="alternate" link. */
  link?: string;
  summaryHtml?: string;
  published?: string;
  updated: string;
  author?: string;
}

/** An Atom 1.0 document (RFC 4287). */
export function atomDocument(title: string, entries: AtomEntry[], author = "Feed Author"): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="text">${escape(title)}</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>${entries[0]?.updated ?? "2026-01-01T00:00:00Z"}</updated>
  <link rel="self" href="/atom.xml"/>
  <author><name>${escape(author)}</name></author>
${
    entries.map((entry) =>
      `  <entry>
    <title type="text">${escape(entry.title)}</title>
    <link rel="edit" href="https://blog.example/edit/${encodeURIComponent(entry.id)}"/>
    ${entry.link ? `<link rel="alternate" type="text/html" href="${escape(entry.link)}"/>` : ""}
    <id>${escape(entry.id)}</id>
    ${entry.published ? `<published>${entry.published}</published>` : ""}
    <updated>${entry.updated}</updated>
    ${entry.summaryHtml === undefined ? "" : `<summary type="html">${escape(entry.summaryHtml)}</summary>`}
    ${entry.author ? `<author><name>${escape(entry.author)}</name></author>` : ""}
  </entry>`
    ).join("\n")
  }
</feed>
`;
}
