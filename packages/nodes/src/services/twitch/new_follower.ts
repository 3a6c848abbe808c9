import { z } from "zod";
import {
  type ActionDefinition,
  parseParams,
  type PollContext,
  type PollResult,
  type TriggerEvent,
} from "../../define.ts";
import { PermanentError } from "../../errors.ts";
import { broadcasterParam, type HelixPage, helixPage, twitchUser } from "./api.ts";

const params = z.object({
  broadcaster: broadcasterParam(
    "The channel to watch, by login name; blank for the connected account's own channel. Twitch lists a " +
      "channel's followers only to its broadcaster and its moderators",
  ),
});

interface Follower {
  user_id: string;
  user_login: string;
  user_name: string;
  followed_at: string;
}

/**
 * Where the last poll stopped: the channel (with the param it was resolved from: a changed param starts
 * a new baseline), the newest follow time seen, and who followed in that very second (`followed_at`
 * has second resolution, so several follows may share it).
 */
type Cursor = { broadcaster: string; broadcaster_id: string; followed_at: string | null; user_ids: string[] };

/** Twitch's maximum page size. */
const PAGE_SIZE = 100;
/** Pages read per poll at most; beyond them, older new followers of that burst are skipped (see poll). */
const MAX_PAGES = 10;

const time = (followedAt: string) => Date.parse(followedAt);

function readCursor(value: unknown, broadcaster: string): Cursor | undefined {
  const cursor = value as Partial<Cursor> | null | undefined;
  if (cursor?.broadcaster !== broadcaster || typeof cursor.broadcaster_id !== "string") return undefined;
  if (!Array.isArray(cursor.user_ids) || !cursor.user_ids.every((id) => typeof id === "string")) return undefined;
  const followedAt = cursor.followed_at;
  if (followedAt !== null && (typeof followedAt !== "string" || Number.isNaN(time(followedAt)))) return undefined;
  return { broadcaster, broadcaster_id: cursor.broadcaster_id, followed_at: followedAt, user_ids: cursor.user_ids };
}

/** A follow against the cursor: before its time, in its second and already seen, or new. */
function seen(follower: Follower, cursor: Cursor): "older" | "same" | "new" {
  if (cursor.followed_at === null) return "new";
  const difference = time(follower.followed_at) - time(cursor.followed_at);
  if (difference < 0) return "older";
  return difference === 0 && cursor.user_ids.includes(follower.user_id) ? "same" : "new";
}

/** The cursor moved to the newest of `newestFirst` (unchanged when it is empty). */
function advance(cursor: Cursor, newestFirst: Follower[]): Cursor {
  const [newest] = newestFirst;
  if (!newest) return cursor;
  const at = time(newest.followed_at);
  const sameSecond = newestFirst.filter((follower) => time(follower.followed_at) === at).map((f) => f.user_id);
  const kept = cursor.followed_at !== null && time(cursor.followed_at) === at ? cursor.user_ids : [];
  return { ...cursor, followed_at: newest.followed_at, user_ids: [...new Set([...kept, ...sameSecond])] };
}

/** GET /helix/channels/followers: "in descending order by followed_at", `first` up to 100, cursor in `after`. */
async function followers(ctx: PollContext, broadcasterId: string, after?: string): Promise<HelixPage<Follower>> {
  const page = await helixPage<Follower>(ctx, {
    method: "GET",
    path: "/helix/channels/followers",
    query: { broadcaster_id: broadcasterId, first: String(PAGE_SIZE), after },
    as: "user",
  });
  // Twitch answers anyone else with the count alone: it would never fire, so say why.
  if (page.data.length === 0 && (page.total ?? 0) > 0) {
    throw new PermanentError(
      "broadcaster: the connected account is neither this channel's broadcaster nor one of its moderators, " +
        "so Twitch does not list its followers",
    );
  }
  return page;
}

function toEvent(follower: Follower): TriggerEvent {
  return {
    // A follow, not a user: someone who unfollows and follows again fires again.
    dedupeKey: `${follower.user_id}@${follower.followed_at}`,
    outputs: {
      user_id: follower.user_id,
      user_login: follower.user_login,
      user_name: follower.user_name,
      followed_at: follower.followed_at,
    },
  };
}

async function poll(ctx: PollContext, raw: Record<string, unknown>, previous: unknown): Promise<PollResult> {
  const broadcaster = (parseParams(params, raw).broadcaster ?? "").toLowerCase();
  const cursor = readCursor(previous, broadcaster);

  // Baseline: remember the newest follows; nobody who followed before ever fires.
  if (!cursor) {
    const channel = await twitchUser(ctx, broadcaster, "broadcaster");
    const { data } = await followers(ctx, channel.id);
    const start: Cursor = { broadcaster, broadcaster_id: channel.id, followed_at: null, user_ids: [] };
    return { events: [], cursor: advance(start, data) };
  }

  // Newest first: page on until a follow the cursor covers, or the end of the list.
  const found: Follower[] = [];
  let after: string | undefined;
  let reached = false;
  for (let page = 0; page < MAX_PAGES && !reached; page++) {
    const { data, cursor: next } = await followers(ctx, cursor.broadcaster_id, after);
    for (const follower of data) {
      const state = seen(follower, cursor);
      if (state === "older") {
        reached = true;
        break;
      }
      if (state === "new") found.push(follower);
    }
    if (!next) reached = true;
    after = next;
  }
  if (!reached) {
    // The list cannot be read oldest first, so the follows between these pages and the cursor are lost.
    ctx.log.warn("more new followers than one poll reads: the oldest of them do not fire", {
      fired: found.length,
    });
  }
  return { events: [...found].reverse().map(toEvent), cursor: advance(cursor, found) };
}

/** https://dev.twitch.tv/docs/api/reference/#get-channel-followers */
export const newFollower: ActionDefinition = {
  key: "new_follower",
  name: "New follower",
  description: "Someone follows a channel you broadcast or moderate.",
  params,
  outputs: z.object({
    user_id: z.string().meta({ description: "The follower's user id" }),
    user_login: z.string().meta({ description: "The follower's login name" }),
    user_name: z.string().meta({ description: "The follower's display name" }),
    followed_at: z.string().meta({ description: "When they followed (RFC 3339)" }),
  }),
  sample: {
    user_id: "11111",
    user_login: "userloginname",
    user_name: "UserDisplayName",
    followed_at: "2026-01-01T12:00:00Z",
  },
  trigger: {
    polling: { minIntervalSeconds: 30, defaultIntervalSeconds: 60, poll },
  },
};
