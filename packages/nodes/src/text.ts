// Provider text made into output text: HTML entities decoded, HTML reduced to what a reader sees, and
// text cut to a length without leaving half a character (a lone UTF-16 surrogate cannot be stored in
// jsonb, so an output holding one would fail the hook log's insert at every poll).

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  laquo: "«",
  raquo: "»",
  copy: "©",
  reg: "®",
  trade: "™",
  euro: "€",
};

/**
 * `&amp;`, `&#39;`, `&#x2019;` and the common named entities as the characters they stand for. A
 * reference to no character (0, a surrogate, beyond U+10FFFF) or an unknown name stays as written.
 */
export function decodeHtmlEntities(value: string): string {
  return value.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});/g, (entity, name: string) => {
    if (name.startsWith("#")) {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[name] ?? entity;
  });
}

/** Tags after which a reader sees a new line. */
const LINE_BREAKS = new Set([
  "br",
  "/p",
  "/div",
  "/li",
  "/h1",
  "/h2",
  "/h3",
  "/h4",
  "/h5",
  "/h6",
  "/tr",
  "/blockquote",
]);

/** Elements whose content a reader never sees: dropped with it. */
const HIDDEN = new Set(["script", "style", "head"]);

/**
 * HTML as the text a reader sees, roughly: scripts, styles, the head and comments dropped, block ends
 * as line breaks, other tags removed, entities decoded, blank runs collapsed; cut to `maxChars`.
 * One pass with indexOf, no backtracking regex: hostile HTML cannot make it quadratic.
 */
export function htmlToText(html: string, maxChars = Infinity): string {
  const lower = html.toLowerCase();
  let out = "";
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt < 0) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      i = end < 0 ? html.length : end + 3;
      continue;
    }
    // A tag starts with a letter, "/", "!" or "?"; any other "<" is text ("a < b").
    const name = /^<(\/?[A-Za-z][A-Za-z0-9]*|[!?])/.exec(html.slice(lt, lt + 12))?.[1]?.toLowerCase();
    if (name === undefined) {
      out += "<";
      i = lt + 1;
      continue;
    }
    const gt = html.indexOf(">", lt);
    if (gt < 0) {
      // No ">" anywhere after: no tag can follow, the rest is text.
      out += html.slice(lt);
      break;
    }
    i = gt + 1;
    if (HIDDEN.has(name)) {
      const close = lower.indexOf(`</${name}`, i);
      const end = close < 0 ? -1 : html.indexOf(">", close);
      i = end < 0 ? html.length : end + 1;
    } else if (LINE_BREAKS.has(name)) {
      out += "\n";
    }
  }
  const plain = decodeHtmlEntities(out)
    .replace(/[ \t\r\f\v\u00a0]+/g, " ")
    .replace(/ ?\n[\n ]*/g, "\n")
    .trim();
  return cutText(plain, maxChars);
}

/** The first `max` UTF-16 units, without splitting a surrogate pair (a lone half is invalid in jsonb). */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  return text.slice(0, /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max);
}
