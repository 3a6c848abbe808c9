import assert from "node:assert/strict";
import { test } from "node:test";
import { cutText, decodeHtmlEntities, htmlToText } from "./text.ts";

test("HTML to text: tags, comments, scripts and entities; hostile input stays linear", () => {
  assert.equal(htmlToText("<p>One<br>two</p><!-- hidden --><ul><li>a</li><li>b</li></ul>"), "One\ntwo\na\nb");
  assert.equal(htmlToText("x &lt; y &#38; z&nbsp;&hellip; &unknown;"), "x < y & z … &unknown;");
  assert.equal(htmlToText("a < b and c > d"), "a < b and c > d");
  assert.equal(htmlToText("<style>p{}</style>kept<script>gone"), "kept");
  assert.equal(htmlToText("<html><head><title>Hidden</title></head><body>Shown</body></html>"), "Shown");
  assert.equal(htmlToText("x".repeat(5_000), 4_000).length, 4_000);
  const started = performance.now();
  htmlToText("<a".repeat(200_000));
  htmlToText("<!--".repeat(200_000));
  htmlToText("<script>".repeat(100_000));
  assert.ok(performance.now() - started < 2_000, "pathological input is not quadratic");
});

test("entities: decimal and hex (either case) references; none to no character, which stay as written", () => {
  assert.equal(decodeHtmlEntities("Caf&#233; &#x2019;&#X2019; &#39;&amp;&quot;"), "Café ’’ '&\"");
  // Beyond U+10FFFF, a surrogate, 0: String.fromCodePoint would throw on the first.
  assert.equal(decodeHtmlEntities("&#9999999; &#xD800; &#0;"), "&#9999999; &#xD800; &#0;");
});

test("a cut never leaves half a surrogate pair", () => {
  assert.equal(cutText("ab😀", 3), "ab");
  assert.equal(cutText("ab😀", 4), "ab😀");
  assert.equal(cutText("abc", 10), "abc");
});
