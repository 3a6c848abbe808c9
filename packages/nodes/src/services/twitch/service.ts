import type { ServiceDefinition } from "../../define.ts";
import { TWITCH_API_URL, TWITCH_OAUTH_URL } from "./api.ts";
import { newFollower } from "./new_follower.ts";
import { sendChatMessage } from "./send_chat_message.ts";
import { streamOffline } from "./stream_offline.ts";
import { streamOnline } from "./stream_online.ts";

// https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#authorization-code-grant-flow
// https://dev.twitch.tv/docs/authentication/revoke-tokens/
// The stream actions' EventSub subscriptions use the application's own token (client credentials:
// see api.ts), so the same TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET must reach the worker.
export const twitch: ServiceDefinition = {
  key: "twitch",
  name: "Twitch",
  description: "Streams going live or offline, new followers and chat on Twitch.",
  icon: "twitch",
  auth: "oauth2",
  oauth2: {
    baseUrls: { TWITCH_OAUTH_URL, TWITCH_API_URL },
    authorizeUrl: "{TWITCH_OAUTH_URL}/oauth2/authorize",
    tokenUrl: "{TWITCH_OAUTH_URL}/oauth2/token",
    // Followers of a channel one broadcasts or moderates; chat messages as the user (with a user token,
    // Send Chat Message needs nothing more). Watching streams needs no scope.
    scopes: ["moderator:read:followers", "user:write:chat"],
    // Twitch documents no PKCE for its authorization code flow.
    pkce: false,
    clientAuth: "client_secret_post",
    clientIdEnv: "TWITCH_CLIENT_ID",
    clientSecretEnv: "TWITCH_CLIENT_SECRET",
    // Helix refuses calls without the application's Client-Id beside the token.
    apiHeaders: { "client-id": "{client_id}" },
    identity: { url: "{TWITCH_API_URL}/helix/users", id: "data.0.id", login: "data.0.login", email: "data.0.email" },
    revoke: {
      url: "{TWITCH_OAUTH_URL}/oauth2/revoke",
      method: "POST",
      format: "form",
      tokenField: "token",
      clientIdField: "client_id",
    },
  },
  actions: [streamOnline, streamOffline, newFollower],
  reactions: [sendChatMessage],
};
