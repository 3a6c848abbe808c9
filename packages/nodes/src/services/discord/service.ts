import type { ServiceDefinition } from "../../define.ts";
import { discordBotCredentials, discordBotIdentity } from "./api.ts";
import { newMessage } from "./new_message.ts";
import { sendMessage } from "./send_message.ts";

// A connection holds a bot's token (api_key), proven by asking Discord who the bot is. Posting through
// a channel webhook URL needs no bot: that is the separate `discord_webhook` service.
export const discord: ServiceDefinition = {
  key: "discord",
  name: "Discord",
  description: "Read and post messages in Discord server channels with your bot.",
  icon: "discord",
  auth: "api_key",
  apiKey: {
    credentials: discordBotCredentials,
    identity: (ctx, credentials) => discordBotIdentity({ ...ctx, credentials }),
  },
  actions: [newMessage],
  reactions: [sendMessage],
};
