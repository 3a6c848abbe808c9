// The channel picker of the slack nodes: the workspace's public channels, a page of Slack's at a time,
// marked when the app's bot is not in one yet (it must be invited to post or to see messages there).
// https://docs.slack.dev/reference/methods/conversations.list
// https://docs.slack.dev/apis/web-api/pagination (cursor-based: response_metadata.next_cursor)
import type { NodeContext } from "../../define.ts";
import { PermanentError } from "../../errors.ts";
import { InvalidOptionsCursor, matchesQuery, type OptionsPage, type OptionsQuery } from "../../options.ts";
import { slackCall } from "./api.ts";

/** Slack recommends no more than 200 per page. */
const PAGE_SIZE = 200;
/** Slack's cursors are opaque base64 strings: anything else was not issued by it. */
const CURSOR = /^[A-Za-z0-9+/=_-]{1,500}$/;

interface Channel {
  id?: unknown;
  name?: unknown;
  is_member?: unknown;
}

export async function listChannels(ctx: NodeContext, { cursor, q }: OptionsQuery): Promise<OptionsPage> {
  if (cursor !== undefined && !CURSOR.test(cursor)) throw new InvalidOptionsCursor(cursor);
  let answer;
  try {
    answer = await slackCall(ctx, "conversations.list", {
      types: "public_channel",
      exclude_archived: true,
      limit: PAGE_SIZE,
      cursor,
    }, { read: true });
  } catch (error) {
    if (cursor !== undefined && error instanceof PermanentError && /invalid_cursor/.test(error.message)) {
      throw new InvalidOptionsCursor(cursor);
    }
    throw error;
  }
  if (!Array.isArray(answer.channels)) {
    throw new PermanentError("Slack conversations.list answered without a list of channels");
  }
  const options = (answer.channels as Channel[])
    .filter((channel) => typeof channel.id === "string" && typeof channel.name === "string")
    .map((channel) => ({
      value: channel.id as string,
      label: channel.is_member === true ? `#${channel.name}` : `#${channel.name} (invite the app first)`,
    }))
    .filter((option) => matchesQuery(option, q));
  const next = (answer.response_metadata as { next_cursor?: unknown } | undefined)?.next_cursor;
  // The last page has an empty next_cursor.
  return typeof next === "string" && next !== "" ? { options, next_cursor: next } : { options };
}
