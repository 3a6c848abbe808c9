import type { ServiceDefinition } from "../../define.ts";
import { SLACK_API_URL, SLACK_OAUTH_URL } from "./api.ts";
import { messagePosted } from "./message_posted.ts";
import { postMessage } from "./post_message.ts";

// Connecting installs the operator's Slack app in a workspace (OAuth v2 with bot scopes): the connection
// holds the workspace's bot token, and its provider account is the workspace (auth.test's team_id), which
// is how the app-level events route finds the hooks an event belongs to. The operator's app needs its
// Event Subscriptions Request URL set to <functions URL>/webhooks/slack, the bot event `message.channels`,
// and SLACK_SIGNING_SECRET, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET in the environment.
// https://docs.slack.dev/authentication/installing-with-oauth
// https://docs.slack.dev/reference/methods/oauth.v2.access
// https://docs.slack.dev/reference/methods/auth.test
export const slack: ServiceDefinition = {
  key: "slack",
  name: "Slack",
  description: "Post messages and react to messages in the channels of a Slack workspace.",
  icon: "slack",
  auth: "oauth2",
  oauth2: {
    baseUrls: { SLACK_OAUTH_URL, SLACK_API_URL },
    authorizeUrl: "{SLACK_OAUTH_URL}/oauth/v2/authorize",
    tokenUrl: "{SLACK_API_URL}/oauth.v2.access",
    // Posting (chat.postMessage), message events of the public channels the bot is in (message.channels),
    // and the list of public channels the channel picker offers (conversations.list).
    scopes: ["chat:write", "channels:history", "channels:read"],
    scopeSeparator: ",",
    // Slack's PKCE turns the app into a public client for good: a server-side app keeps its secret instead.
    pkce: false,
    // "Avoid sending client_id and client_secret as parameters… supply them using HTTP Basic."
    clientAuth: "client_secret_basic",
    clientIdEnv: "SLACK_CLIENT_ID",
    clientSecretEnv: "SLACK_CLIENT_SECRET",
    identity: { url: "{SLACK_API_URL}/auth.test", method: "POST", id: "team_id", login: "team" },
    // No revocation: auth.revoke on the bot token would uninstall the bot from the workspace, for every
    // user whose connection holds that same token.
  },
  actions: [messagePosted],
  reactions: [postMessage],
};
