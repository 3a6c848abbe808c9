// The label picker of the google nodes (new_email's filter, add_label's label): the mailbox's own labels
// and the system labels a message can be given, by id, with readable names.
// https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.labels/list
// https://developers.google.com/workspace/gmail/api/guides/labels (system labels, "can be manually applied")
import { z } from "zod";
import type { NodeContext } from "../../define.ts";
import {
  InvalidOptionsCursor,
  matchesQuery,
  type OptionsPage,
  type OptionsQuery,
  type ParamOption,
  withOptions,
} from "../../options.ts";
import { gmailLabels } from "./api.ts";

/** Choices per page: a mailbox may hold 10,000 labels, more than a picker should receive at once. */
export const LABELS_PER_PAGE = 200;
/** An offset into the list, a multiple of LABELS_PER_PAGE: the only cursors this list issues. */
const OFFSET_CURSOR = /^[1-9][0-9]{0,5}$/;

/**
 * The system labels Gmail documents as applicable by hand, in the order Gmail shows them, named as it
 * does. The others (SENT, DRAFT: Gmail sets them itself; CHAT, and any Gmail adds later) are left out,
 * since add_label would fail with them; new_email still accepts SENT or DRAFT typed in.
 */
const SYSTEM_LABELS = new Map([
  ["INBOX", "Inbox"],
  ["STARRED", "Starred"],
  ["IMPORTANT", "Important"],
  ["UNREAD", "Unread"],
  ["SPAM", "Spam"],
  ["TRASH", "Trash"],
  ["CATEGORY_PERSONAL", "Category: Personal"],
  ["CATEGORY_SOCIAL", "Category: Social"],
  ["CATEGORY_PROMOTIONS", "Category: Promotions"],
  ["CATEGORY_UPDATES", "Category: Updates"],
  ["CATEGORY_FORUMS", "Category: Forums"],
]);
const systemOrder = [...SYSTEM_LABELS.keys()];

/**
 * One page of labels: the system labels above, then the user's by name (`Work/Clients` under `Work`),
 * valued by id. Gmail answers every label at once, so this pages that answer itself with an offset
 * cursor; the list is read again for each page, which is one cheap call, and a label created or
 * deleted between two pages shifts the rest by one (a picker can be searched with `q`).
 */
export async function listLabels(ctx: NodeContext, { cursor, q }: OptionsQuery): Promise<OptionsPage> {
  const offset = cursor === undefined ? 0 : Number(cursor);
  if (cursor !== undefined && (!OFFSET_CURSOR.test(cursor) || offset % LABELS_PER_PAGE !== 0)) {
    throw new InvalidOptionsCursor(cursor);
  }
  const labels = await gmailLabels(ctx);
  const system = labels
    .filter((label) => label.type === "system" && SYSTEM_LABELS.has(label.id))
    .sort((a, b) => systemOrder.indexOf(a.id) - systemOrder.indexOf(b.id))
    .map((label): ParamOption => ({ value: label.id, label: SYSTEM_LABELS.get(label.id)! }));
  const user = labels
    .filter((label) => label.type !== "system")
    .sort((a, b) => a.name.localeCompare(b.name, "en", { sensitivity: "base" }) || (a.id < b.id ? -1 : 1))
    .map((label): ParamOption => ({ value: label.id, label: label.name }));
  const matching = [...system, ...user].filter((option) => matchesQuery(option, q));
  const options = matching.slice(offset, offset + LABELS_PER_PAGE);
  const next = offset + LABELS_PER_PAGE;
  return next < matching.length ? { options, next_cursor: String(next) } : { options };
}

/**
 * A label param, by name or id (Gmail's own names up to 225 characters), its choices listed by
 * listLabels. Each node adds its own rule (required or not) and description.
 */
export const labelField = withOptions(z.string().trim().max(225), listLabels);
