import type { ServiceDefinition } from "../../define.ts";
import { emailCredentials, emailIdentity } from "./api.ts";
import { newEmail } from "./new_email.ts";
import { sendEmail } from "./send_email.ts";

// A connection holds the account's SMTP and IMAP settings and passwords (api_key), proven by logging
// in to both servers.
export const email: ServiceDefinition = {
  key: "email",
  name: "Email",
  description: "Send mail through your SMTP server and react to mail arriving in your IMAP mailbox.",
  icon: "mail",
  auth: "api_key",
  apiKey: {
    credentials: emailCredentials,
    identity: (ctx, credentials) => emailIdentity({ ...ctx, credentials }),
  },
  actions: [newEmail],
  reactions: [sendEmail],
};
