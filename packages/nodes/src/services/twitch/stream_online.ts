import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { broadcasterOf, broadcasterOutputs, channelEventTrigger, channelParams, eventText } from "./eventsub.ts";

/**
 * https://dev.twitch.tv/docs/eventsub/eventsub-subscription-types/#streamonline
 * An EventSub webhook subscription per AREA; no authorization is needed to watch a channel.
 */
export const streamOnline: ActionDefinition = {
  key: "stream_online",
  name: "Stream goes live",
  description: "A channel starts streaming (your own, or any channel by its login name).",
  params: channelParams,
  outputs: z.object({
    ...broadcasterOutputs,
    stream_id: z.string().meta({ description: "The stream's id" }),
    stream_type: z.string().meta({ description: "The stream's type: live, playlist, watch_party, premiere or rerun" }),
    started_at: z.string().meta({ description: "When the stream started (RFC 3339)" }),
  }),
  sample: {
    broadcaster_id: "1337",
    broadcaster_login: "cool_user",
    broadcaster_name: "Cool_User",
    stream_id: "9001",
    stream_type: "live",
    started_at: "2026-01-01T12:00:00Z",
  },
  trigger: {
    webhook: channelEventTrigger({
      type: "stream.online",
      version: "1",
      outputs: (event) => ({
        ...broadcasterOf(event),
        stream_id: eventText(event.id),
        stream_type: eventText(event.type),
        started_at: eventText(event.started_at),
      }),
    }),
  },
};
