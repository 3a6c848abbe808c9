import { z } from "zod";
import { type NodeContext, parseParams, type ReactionDefinition, secret } from "../../define.ts";
import { PermanentError } from "../../errors.ts";
import { discordApiBase, type DiscordMessage, discordRequest, readDiscordJson, snowflake } from "../discord/api.ts";
import { EMPTY_MESSAGE, hasBody, messageBody, messageFields } from "../discord/message.ts";

/** Where Discord hands out webhook URLs (Server Settings → Integrations → Webhooks → Copy Webhook URL). */
const DISCORD_HOSTS = new Set([
  "discord.com",
  "ptb.discord.com",
  "canary.discord.com",
  "discordapp.com",
  "ptb.discordapp.com",
  "canary.discordapp.com",
]);
/** `/api[/v10]/webhooks/{webhook.id}/{webhook.token}` */
const WEBHOOK_PATH = /^\/api(?:\/v[0-9]+)?\/webhooks\/([0-9]{1,20})\/([A-Za-z0-9_-]{1,200})\/?$/;

const params = z.object({
  // The URL holds the webhook's token, which is all it takes to post: a secret, write-only for clients.
  webhook_url: secret("The channel webhook's URL (Server Settings → Integrations → Webhooks → Copy Webhook URL)")
    .regex(/^https?:\/\/[^/?#\s]+\/api(\/v[0-9]+)?\/webhooks\/[0-9]+\/[A-Za-z0-9_-]+\/?(\?[^#\s]*)?$/)
    .meta({ placeholder: "https://discord.com/api/webhooks/123456789012345678/abcdef…" }),
  ...messageFields,
  username: z.string().min(1).max(80).optional().meta({
    description: "Post under this name instead of the webhook's (1 to 80 characters)",
  }),
  avatar_url: z.url({ protocol: /^https?$/ }).optional().meta({
    description: "Post with this avatar image instead of the webhook's",
  }),
  thread_id: snowflake.optional().meta({
    description: "Post in this thread of the webhook's channel (required for forum and media channels)",
  }),
}).refine(hasBody, { message: EMPTY_MESSAGE, path: ["content"] });

interface WebhookTarget {
  id: string;
  token: string;
  threadId: string | undefined;
}

/**
 * The webhook id and token of a Discord webhook URL: a discord.com (or discordapp.com, ptb., canary.)
 * https URL, or one on the host DISCORD_API_URL names (a proxy, the tests' fake). Anything else is
 * refused before a request: the token is never sent to a host that is not Discord's.
 */
export function webhookTarget(raw: string, env: NodeContext["env"]): WebhookTarget {
  const url = URL.parse(raw);
  const configured = new URL(discordApiBase(env));
  const discordHost = url?.protocol === "https:" && url.port === "" && DISCORD_HOSTS.has(url.hostname);
  const configuredHost = url?.protocol === configured.protocol && url.host === configured.host;
  const path = url ? WEBHOOK_PATH.exec(url.pathname) : null;
  if (!url || !(discordHost || configuredHost) || !path) {
    throw new PermanentError(
      "invalid params: webhook_url is not a Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>)",
    );
  }
  return { id: path[1], token: path[2], threadId: url.searchParams.get("thread_id") ?? undefined };
}

/**
 * https://discord.com/developers/docs/resources/webhook#execute-webhook
 * With `wait=true` Discord answers with the message it created (else 204, with no way to tell it
 * was saved). Calls go to DISCORD_API_URL whatever host the URL names.
 */
export const sendWebhookMessage: ReactionDefinition = {
  key: "send_webhook_message",
  name: "Send a message through a channel webhook",
  description: "Posts a message, with embeds if you like, through a channel's webhook URL: no bot needed.",
  params,
  async run(ctx, raw) {
    // zod's messages never echo the value: the URL (a secret) stays out of the error.
    const { webhook_url: webhookUrl, username, avatar_url: avatarUrl, thread_id: threadParam, ...message } =
      parseParams(params, raw);
    const target = webhookTarget(webhookUrl, ctx.env);
    const response = await discordRequest(ctx, {
      method: "POST",
      path: `/webhooks/${target.id}/${target.token}`,
      query: { wait: "true", thread_id: threadParam ?? target.threadId },
      bot: false,
      body: {
        ...messageBody(message),
        ...(username ? { username } : {}),
        ...(avatarUrl ? { avatar_url: avatarUrl } : {}),
      },
      redact: target.token,
    });
    const sent = await readDiscordJson<DiscordMessage>(response);
    return { id: sent.id, channel_id: sent.channel_id };
  },
};
