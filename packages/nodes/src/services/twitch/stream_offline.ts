import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { broadcasterOf, broadcasterOutputs, channelEventTrigger, channelParams } from "./eventsub.ts";

/**
 * https://dev.twitch.tv/docs/eventsub/eventsub-subscription-types/#streamoffline
 * An EventSub webhook subscription per AREA; no authorization is needed to watch a channel.
 */
export const streamOffline: ActionDefinition = {
  key: "stream_offline",
  name: "Stream ends",
  description: "A channel stops streaming (your own, or any channel by its login name).",
  params: channelParams,
  outputs: z.object(broadcasterOutputs),
  sample: { broadcaster_id: "1337", broadcaster_login: "cool_user", broadcaster_name: "Cool_User" },
  trigger: {
    webhook: channelEventTrigger({ type: "stream.offline", version: "1", outputs: broadcasterOf }),
  },
};
