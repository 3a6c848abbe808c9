// Keyset pagination: a page ends with an opaque cursor naming its last row (timestamp, id), and the
// next page starts strictly after it, so rows added meanwhile never shift or repeat a page.
import { ApiError } from "../_shared/errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A timestamptz as Postgres prints it, microseconds kept (a JS Date would drop them and skip rows). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/** `at` is the row's timestamp as text (`column::text`). */
export function encodeCursor(at: string, id: string): string {
  return btoa(JSON.stringify([at, id])).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (typeof at === "string" && TIMESTAMP.test(at) && typeof id === "string" && UUID.test(id)) {
      return { at, id };
    }
  } catch { /* reported below */ }
  throw new ApiError(400, "invalid_cursor", "cursor: not a cursor this API gave out (use next_cursor as is)", {
    path: "cursor",
  });
}
