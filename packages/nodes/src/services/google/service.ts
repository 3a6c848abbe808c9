import type { ServiceDefinition } from "../../define.ts";
import { addLabel } from "./add_label.ts";
import { GOOGLE_OAUTH_URL, GOOGLE_TOKEN_URL, GOOGLE_USERINFO_URL } from "./api.ts";
import { newEmail } from "./new_email.ts";
import { sendEmail } from "./send_email.ts";

// https://developers.google.com/identity/protocols/oauth2/web-server
// https://developers.google.com/identity/openid-connect/openid-connect (userinfo: sub, email)
// https://developers.google.com/workspace/gmail/api/auth/scopes
export const google: ServiceDefinition = {
  key: "google",
  name: "Google",
  description: "Gmail: watch for new email, send email, label messages.",
  icon: "google",
  auth: "oauth2",
  oauth2: {
    // The nodes call Gmail at GMAIL_API_URL (api.ts); these are the hosts of the flow itself.
    baseUrls: { GOOGLE_OAUTH_URL, GOOGLE_TOKEN_URL, GOOGLE_USERINFO_URL },
    authorizeUrl: "{GOOGLE_OAUTH_URL}/o/oauth2/v2/auth",
    tokenUrl: "{GOOGLE_TOKEN_URL}/token",
    // gmail.modify is the narrowest scope covering the nodes: reading history and messages, sending,
    // adding labels (gmail.send or gmail.readonly alone cannot label). openid and email name the account.
    scopes: ["openid", "email", "https://www.googleapis.com/auth/gmail.modify"],
    pkce: true,
    clientAuth: "client_secret_post",
    clientIdEnv: "GOOGLE_CLIENT_ID",
    clientSecretEnv: "GOOGLE_CLIENT_SECRET",
    // Google issues a refresh token only for offline access, and again on a later consent only when asked
    // to show the consent screen: without both, a reconnected account would get no refresh token.
    authorizeParams: { access_type: "offline", prompt: "consent" },
    identity: { url: "{GOOGLE_USERINFO_URL}/v1/userinfo", id: "sub", login: "email", email: "email" },
    revoke: { url: "{GOOGLE_TOKEN_URL}/revoke", method: "POST", format: "form", tokenField: "token" },
  },
  actions: [newEmail],
  reactions: [sendEmail, addLabel],
};
