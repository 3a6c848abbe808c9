// The channel picker of the discord nodes: the text and announcement channels of the servers (guilds)
// the connection's bot is in, a page of servers at a time.
// https://discord.com/developers/docs/resources/user#get-current-user-guilds
// https://discord.com/developers/docs/resources/guild#get-guild-channels
// https://discord.com/developers/docs/resources/channel#channel-object-channel-types
import type { NodeContext } from "../../define.ts";
import { PermanentError } from "../../errors.ts";
import { InvalidOptionsCursor, matchesQuery, type OptionsPage, type OptionsQuery, withOptions } from "../../options.ts";
import { compareSnowflakes, discordRequest, readDiscordJson, snowflake } from "./api.ts";

/** Servers read per page of choices: each costs one more request (its channels). */
export const GUILDS_PER_PAGE = 10;
/** The channel types messages are read and posted in: GUILD_TEXT (0) and GUILD_ANNOUNCEMENT (5). */
const MESSAGE_CHANNEL_TYPES = new Set([0, 5]);

interface PartialGuild {
  id: string;
  name: string;
}

interface GuildChannel {
  id: string;
  type: number;
  name?: string | null;
  position?: number;
}

async function list<T>(ctx: NodeContext, path: string, query: Record<string, string | undefined> = {}): Promise<T[]> {
  const response = await discordRequest(ctx, { method: "GET", path, query, bot: true });
  const items = await readDiscordJson<unknown>(response);
  if (!Array.isArray(items)) throw new PermanentError(`Discord answered GET ${path} with something else than a list`);
  return items as T[];
}

/**
 * One page of channels: the servers after `cursor` (a server id: Discord lists them by id), each
 * server's message channels in the order Discord shows them, labelled `#name (server)`.
 */
export async function listChannels(ctx: NodeContext, { cursor, q }: OptionsQuery): Promise<OptionsPage> {
  if (cursor !== undefined && !snowflake.safeParse(cursor).success) throw new InvalidOptionsCursor(cursor);
  const guilds = await list<PartialGuild>(ctx, "/users/@me/guilds", {
    after: cursor,
    limit: String(GUILDS_PER_PAGE),
  });
  const channels = await Promise.all(
    guilds.map((guild) => list<GuildChannel>(ctx, `/guilds/${encodeURIComponent(guild.id)}/channels`)),
  );
  const options = guilds.flatMap((guild, index) =>
    channels[index]
      .filter((channel) => MESSAGE_CHANNEL_TYPES.has(channel.type))
      .sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || compareSnowflakes(a.id, b.id))
      .map((channel) => ({ value: channel.id, label: `#${channel.name ?? channel.id} (${guild.name})` }))
      .filter((option) => matchesQuery(option, q))
  );
  // A short page of servers was the last one.
  const last = guilds.map((guild) => guild.id).reduce<string | undefined>(
    (max, id) => max === undefined || compareSnowflakes(id, max) > 0 ? id : max,
    undefined,
  );
  return guilds.length < GUILDS_PER_PAGE || last === undefined ? { options } : { options, next_cursor: last };
}

/** A channel id param whose choices are the bot's channels. */
export const channelIdField = withOptions(snowflake, listChannels);
