import type { ServiceDefinition } from "../../define.ts";
import { sendWebhookMessage } from "./send_webhook_message.ts";

// Apart from `discord` because it needs no connection: the webhook URL (a secret param) is the
// credential, and a refusal says the URL is wrong, never that an account must be reconnected.
export const discordWebhook: ServiceDefinition = {
  key: "discord_webhook",
  name: "Discord webhooks",
  description: "Post messages in a Discord channel through its webhook URL, without a bot.",
  icon: "discord",
  auth: "none",
  actions: [],
  reactions: [sendWebhookMessage],
};
