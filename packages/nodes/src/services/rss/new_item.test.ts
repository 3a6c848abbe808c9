// rss/new_item against a local feed server: baseline, new items once, conditional GET (ETag and
// Last-Modified → 304), dedupe keys, the remembered-keys bound, and failures, through the context the
// worker builds for a service without auth.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { PermanentError, RetryableError } from "../../errors.ts";
import {
  atomDocument,
  type FakeFeeds,
  rssDocument,
  type RssItem,
  startFakeFeeds,
} from "../../../../../tests/support/fakes/feeds.ts";
import { pollContext } from "../../../../../tests/support/node_context.ts";
import { newItem } from "./new_item.ts";
import { rss } from "./service.ts";

const polling = newItem.trigger.polling!;

async function feeds(t: TestContext): Promise<FakeFeeds> {
  const server = await startFakeFeeds();
  t.after(() => server.close());
  return server;
}

const poller = (url: string) => (cursor: unknown) =>
  polling.poll(pollContext(rss), newItem.params.parse({ url }), cursor);

const post = (n: number): RssItem => ({
  title: `Post ${n}`,
  link: `https://blog.example/posts/${n}`,
  guid: `https://blog.example/?p=${n}`,
  description: `<p>Body of <b>post ${n}</b></p>`,
  pubDate: new Date(Date.UTC(2026, 0, n)).toUTCString(),
  author: "Ada",
});

/** Feeds list newest first. */
const rssOf = (...numbers: number[]) => rssDocument("Ada's blog", numbers.map(post));

test("RSS: the baseline fires nothing; a new item fires once with its outputs; an unchanged feed is a 304", async (t) => {
  const server = await feeds(t);
  server.set("/feed.xml", { body: rssOf(2, 1) });
  const poll = poller(server.url("/feed.xml"));

  const baseline = await poll(undefined);
  assert.deepEqual(baseline.events, []);
  const cursor = baseline.cursor as { etag: string; last_modified: string; seen: string[] };
  assert.match(cursor.etag, /^"[\w-]+"$/);
  assert.match(cursor.last_modified, /GMT$/);
  assert.deepEqual(cursor.seen, ["https://blog.example/?p=2", "https://blog.example/?p=1"]);
  assert.equal(server.requests[0].headers["if-none-match"], undefined);
  assert.match(server.requests[0].headers.accept!, /application\/rss\+xml/);

  server.set("/feed.xml", { body: rssOf(3, 2, 1) });
  const result = await poll(baseline.cursor);
  assert.equal(server.requests[1].headers["if-none-match"], cursor.etag);
  assert.equal(server.requests[1].headers["if-modified-since"], cursor.last_modified);
  assert.deepEqual(result.events, [{
    dedupeKey: "https://blog.example/?p=3",
    outputs: {
      title: "Post 3",
      link: "https://blog.example/posts/3",
      summary: "Body of post 3",
      published_at: "2026-01-03T00:00:00.000Z",
      author: "Ada",
      guid: "https://blog.example/?p=3",
      feed_title: "Ada's blog",
    },
  }]);
  assert.deepEqual(newItem.outputs.parse(result.events[0].outputs), result.events[0].outputs);
  assert.deepEqual(newItem.outputs.parse(newItem.sample), newItem.sample, "the sample has the outputs' shape");

  // Unchanged: the server answers 304, nothing fires and the cursor is kept (none returned).
  const unchanged = await poll(result.cursor);
  assert.deepEqual(unchanged, { events: [] });
  assert.equal(server.requests.length, 3);
  const cursorAfter = result.cursor as { etag: string };
  assert.equal(server.requests[2].headers["if-none-match"], cursorAfter.etag);
});

test("a changed document fires only what is new, oldest first, and never an item seen before", async (t) => {
  const server = await feeds(t);
  server.set("/feed.xml", { body: rssOf(3, 2, 1) });
  const poll = poller(server.url("/feed.xml"));
  const baseline = await poll(undefined);

  // Two new posts, one old one dropped from the document, one edited (same guid, new title).
  server.set("/feed.xml", {
    body: rssDocument("Ada's blog", [post(5), post(4), { ...post(3), title: "Post 3 (edited)" }, post(2)]),
  });
  const result = await poll(baseline.cursor);
  assert.deepEqual(result.events.map((event) => event.outputs.title), ["Post 4", "Post 5"]);

  // Post 1 comes back (a feed that shows it again): still remembered, it does not fire.
  server.set("/feed.xml", { body: rssOf(5, 4, 3, 2, 1) });
  const again = await poll(result.cursor);
  assert.deepEqual(again.events, []);
});

test("Last-Modified alone makes the GET conditional too", async (t) => {
  const server = await feeds(t);
  server.set("/feed.xml", { body: rssOf(1), etag: false });
  const poll = poller(server.url("/feed.xml"));
  const baseline = await poll(undefined);
  const cursor = baseline.cursor as Record<string, unknown>;
  assert.equal(cursor.etag, undefined);
  const unchanged = await poll(baseline.cursor);
  assert.equal(server.requests[1].headers["if-none-match"], undefined);
  assert.equal(server.requests[1].headers["if-modified-since"], cursor.last_modified);
  assert.deepEqual(unchanged, { events: [] });
});

test("a server without validators is polled in full, and dedupe alone keeps items from firing twice", async (t) => {
  const server = await feeds(t);
  server.set("/feed.xml", { body: rssOf(1), etag: false, lastModified: false });
  const poll = poller(server.url("/feed.xml"));
  const baseline = await poll(undefined);
  server.set("/feed.xml", { body: rssOf(2, 1), etag: false, lastModified: false });
  const first = await poll(baseline.cursor);
  const second = await poll(first.cursor);
  assert.deepEqual(first.events.map((event) => event.dedupeKey), ["https://blog.example/?p=2"]);
  assert.deepEqual(second.events, []);
  assert.equal(server.requests[2].headers["if-none-match"], undefined);
  assert.equal(server.requests[2].headers["if-modified-since"], undefined);
});

test("Atom: entries keyed by id, with the alternate link, html summary as text and the author", async (t) => {
  const server = await feeds(t);
  const entry = (n: number) => ({
    id: `urn:uuid:0000000${n}`,
    title: `Entry ${n}`,
    link: `https://blog.example/entries/${n}`,
    summaryHtml: `<p>Entry <em>${n}</em> &amp; more</p>`,
    updated: `2026-02-0${n}T10:00:00Z`,
  });
  server.set("/atom.xml", { body: atomDocument("Atom blog", [entry(1)]), contentType: "application/atom+xml" });
  const poll = poller(server.url("/atom.xml"));
  const baseline = await poll(undefined);
  assert.deepEqual((baseline.cursor as { seen: string[] }).seen, ["urn:uuid:00000001"]);

  server.set("/atom.xml", {
    body: atomDocument("Atom blog", [{ ...entry(2), author: "Dee", published: "2026-02-01T09:00:00+01:00" }, entry(1)]),
    contentType: "application/atom+xml",
  });
  const result = await poll(baseline.cursor);
  assert.deepEqual(result.events, [{
    dedupeKey: "urn:uuid:00000002",
    outputs: {
      title: "Entry 2",
      link: "https://blog.example/entries/2",
      summary: "Entry 2 & more",
      published_at: "2026-02-01T08:00:00.000Z",
      author: "Dee",
      guid: "urn:uuid:00000002",
      feed_title: "Atom blog",
    },
  }]);
});

test("without a guid the link is the key, without either the title; items with nothing are skipped", async (t) => {
  const server = await feeds(t);
  server.set("/feed.xml", { body: rssDocument("t", [{ title: "old", link: "https://blog.example/old" }]) });
  const poll = poller(server.url("/feed.xml"));
  const baseline = await poll(undefined);
  server.set("/feed.xml", {
    body: rssDocument("t", [
      { title: "linked", link: "https://blog.example/new" },
      { title: "untitled link-less", pubDate: "Thu, 01 Jan 2026 00:00:00 GMT" },
      { description: "nothing to key on" },
      { title: "old", link: "https://blog.example/old" },
    ]),
  });
  const result = await poll(baseline.cursor);
  assert.deepEqual(result.events.map((event) => event.dedupeKey).sort(), [
    "https://blog.example/new",
    "untitled link-less|2026-01-01T00:00:00.000Z",
  ]);
  assert.equal(result.events.find((event) => event.dedupeKey.startsWith("https"))!.outputs.guid, "");
});

test("remembered keys are bounded: at most 500, the current document's first; long keys are hashed", async (t) => {
  const server = await feeds(t);
  const many = (from: number, count: number) =>
    rssDocument(
      "busy",
      Array.from({ length: count }, (_, i) => ({ title: `#${from + count - i}`, guid: `g${from + count - i}` })),
    );
  server.set("/feed.xml", { body: many(0, 300) });
  const poll = poller(server.url("/feed.xml"));
  const baseline = await poll(undefined);
  server.set("/feed.xml", { body: many(300, 300) });
  const next = await poll(baseline.cursor);
  assert.equal(next.events.length, 300);
  const seen = (next.cursor as { seen: string[] }).seen;
  assert.equal(seen.length, 500);
  assert.deepEqual(seen.slice(0, 2), ["g600", "g599"]);
  assert.equal(seen.at(-1), "g101");

  const long = `https://blog.example/${"x".repeat(300)}`;
  server.set("/feed.xml", { body: rssDocument("long", [{ title: "long", guid: long }]) });
  const hashed = await poll(next.cursor);
  assert.match(hashed.events[0].dedupeKey, /^sha256:[0-9a-f]{64}$/);
  assert.equal(hashed.events[0].outputs.guid, long);
});

test("a feed in ISO-8859-1 is decoded by its declared charset", async (t) => {
  const server = await feeds(t);
  const latin1 = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0));
  const document = (title: string) =>
    `<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Caf\u00e9</title>` +
    `<item><title>${title}</title><guid>${title}</guid></item></channel></rss>`;
  server.set("/latin1.xml", { body: latin1(document("old")), contentType: "application/xml" });
  const poll = poller(server.url("/latin1.xml"));
  const baseline = await poll(undefined);
  server.set("/latin1.xml", { body: latin1(document("cr\u00e8me br\u00fbl\u00e9e")), contentType: "application/xml" });
  const result = await poll(baseline.cursor);
  assert.equal(result.events[0].outputs.title, "crème brûlée");
  assert.equal(result.events[0].outputs.feed_title, "Café");
});

test("failures: not a feed and 404 are permanent; 503 and 429 are retryable with Retry-After", async (t) => {
  const server = await feeds(t);
  const poll = poller(server.url("/feed.xml"));
  await assert.rejects(poll(undefined), (error) => error instanceof PermanentError && error.status === 404);

  server.set("/feed.xml", { body: "<!DOCTYPE html><html><body>A web page</body></html>", contentType: "text/html" });
  await assert.rejects(
    poll(undefined),
    (error) => error instanceof PermanentError && /neither an RSS nor an Atom/.test(error.message),
  );

  server.fail("/feed.xml", 429, { "retry-after": "120" });
  await assert.rejects(
    poll(undefined),
    (error) => error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 120,
  );
  // A 503 asking for an hour is not waited for within the call: retryable later, at that time.
  server.fail("/feed.xml", 503, { "retry-after": "3600" });
  await assert.rejects(
    poll(undefined),
    (error) => error instanceof RetryableError && error.status === 503 && error.retryAfterSeconds === 3600,
  );
  await assert.rejects(
    polling.poll(pollContext(rss), { url: "ftp://example.org/feed" }, undefined),
    (error) => error instanceof PermanentError && /url/.test(error.message),
  );
});
