// Keyset pagination: a page ends with an opaque cursor naming its last row (timestamp, id), and the
// next page starts strictly after it, so rows added meanwhile never shift or repeat a page.
import { isUuid } from "../_shared/ids.ts";
import { ApiError } from "../_shared/errors.ts";

/** A timestamptz as Postgres prints it, microseconds kept (a JS Date would drop them and skip rows). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/** `at` is the row's timestamp as text (`column::text`). */
function encodeCursor(at: string, id: string): string {
  return btoa(JSON.stringify([at, id])).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Where a page starts: after the row `cursor` names, or at the top (null) without one. */
export function decodeCursor(cursor: string | undefined): { at: string; id: string } | null {
  if (cursor === undefined) return null;
  try {
    const [at, id] = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (typeof at === "string" && TIMESTAMP.test(at) && isUuid(id)) {
      return { at, id };
    }
  } catch { /* reported below */ }
  throw new ApiError(400, "invalid_cursor", "cursor: not a cursor this API gave out (use next_cursor as is)", {
    path: "cursor",
  });
}

/** The answer for `rows` fetched with `limit + 1`: the extra row only says that another page follows. */
// deno-lint-ignore no-explicit-any -- rows as postgres.js types them
export function pageOf<R extends Record<string, any>, T>(rows: readonly R[], limit: number, present: (row: R) => T) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(present),
    next_cursor: rows.length > limit && last ? encodeCursor(last.at, last.id) : null,
  };
}
