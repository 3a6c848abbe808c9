// Feed documents read into items: RSS 2.0, RSS 1.0, Atom, and what real feeds get wrong.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PermanentError } from "../../errors.ts";
import { parseFeed } from "./feed.ts";

const BASE = "https://blog.example/feed.xml";

test("RSS 2.0: fields, CDATA and escaped HTML as text, RFC 822 dates, dc:creator, relative links", () => {
  const feed = parseFeed(
    `<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel><title>Ada &amp; Co</title>
    <item>
      <title>Caf&#233; &#x2019;n&#8217; more</title>
      <link>/posts/1</link>
      <guid isPermaLink="false">0123</guid>
      <description><![CDATA[<p>Hello &amp; <b>welcome</b></p><script>alert(1)</script><p>Second</p>]]></description>
      <pubDate>Tue, 10 Jun 2003 04:00:00 +0200</pubDate>
      <dc:creator>Ada</dc:creator>
    </item>
    <item>
      <title>Escaped</title>
      <description>&lt;p&gt;a &amp;lt; b&lt;/p&gt;</description>
      <content:encoded>unused</content:encoded>
      <author>bob@example.org (Bob)</author>
    </item>
  </channel>
</rss>`,
    BASE,
  );
  assert.equal(feed.format, "rss");
  assert.equal(feed.title, "Ada & Co");
  assert.deepEqual(feed.items[0], {
    title: "Café ’n’ more",
    link: "https://blog.example/posts/1",
    summary: "Hello & welcome\nSecond",
    published_at: "2003-06-10T02:00:00.000Z",
    author: "Ada",
    guid: "0123",
  });
  assert.deepEqual(feed.items[1], {
    title: "Escaped",
    link: "",
    summary: "a < b",
    published_at: undefined,
    author: "bob@example.org (Bob)",
    guid: "",
  });
});

test("RSS 1.0 (RDF): items beside the channel, rdf:about as id, dc:date", () => {
  const feed = parseFeed(
    `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
        xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://blog.example/"><title>RDF feed</title></channel>
      <item rdf:about="https://blog.example/a"><title>A</title><link>https://blog.example/a</link>
        <dc:date>2026-01-02T03:04:05+01:00</dc:date><dc:creator>Cy</dc:creator></item>
    </rdf:RDF>`,
    BASE,
  );
  assert.equal(feed.title, "RDF feed");
  assert.deepEqual(feed.items, [{
    title: "A",
    link: "https://blog.example/a",
    summary: "",
    published_at: "2026-01-02T02:04:05.000Z",
    author: "Cy",
    guid: "https://blog.example/a",
  }]);
});

test("Atom: id, the alternate link, html and xhtml text constructs, published or updated, the feed's author", () => {
  const feed = parseFeed(
    `<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">A &amp;amp; B</title>
      <author><name>Feed Author</name></author>
      <entry><title type="html">&lt;em&gt;Big&lt;/em&gt; news</title>
        <link rel="edit" href="/edit/1"/><link href="/posts/1"/>
        <id>urn:uuid:1</id><updated>2026-03-01T10:00:00Z</updated>
        <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Plain xhtml</p></div></content>
      </entry>
      <entry><title>Second</title><link rel="alternate" href="https://elsewhere.example/2"/><id>urn:uuid:2</id>
        <published>2026-02-01T00:00:00-05:00</published><updated>2026-03-01T00:00:00Z</updated>
        <summary>Just text &lt;not a tag&gt;</summary><author><name>Dee</name></author></entry>
    </feed>`,
    BASE,
  );
  assert.equal(feed.format, "atom");
  assert.equal(feed.title, "A & B");
  assert.deepEqual(feed.items, [
    {
      title: "Big news",
      link: "https://blog.example/posts/1",
      summary: "Plain xhtml",
      published_at: "2026-03-01T10:00:00.000Z",
      author: "Feed Author",
      guid: "urn:uuid:1",
    },
    {
      title: "Second",
      link: "https://elsewhere.example/2",
      summary: "Just text <not a tag>",
      published_at: "2026-02-01T05:00:00.000Z",
      author: "Dee",
      guid: "urn:uuid:2",
    },
  ]);
});

test("anything else is refused permanently; DOCTYPE entities are never expanded", () => {
  for (const document of ["<!DOCTYPE html><html><body>Not a feed</body></html>", "just text", '{"items":[]}']) {
    assert.throws(() => parseFeed(document, BASE), PermanentError, document);
  }
  const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
    <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
    <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
    <rss version="2.0"><channel><title>t</title><item><title>&lol3;</title><guid>1</guid></item></channel></rss>`;
  const [item] = parseFeed(bomb, BASE).items;
  assert.ok(item.title.length < 100, item.title);
});
