// Real mail protocol peers for the email nodes (Node only), on 127.0.0.1:
// - an SMTP server (smtp-server, the SMTP implementation behind Nodemailer's tests) that requires
//   AUTH, records each delivered message with its envelope, and can refuse a recipient (550), defer
//   one (450), refuse the connection (421) or defer the message (451), as RFC 5321 §4.2 words them;
// - an IMAP server (hoodiecrow-imap: an in-memory IMAP4rev1 server by imapflow's author) holding one
//   account, to which a test adds messages and whose UIDVALIDITY it can change (a recreated mailbox).
import { createRequire } from "node:module";
import type { AddressInfo, Server, Socket } from "node:net";
import { SMTPServer, type SMTPServerAddress } from "smtp-server";

export interface Account {
  user: string;
  password: string;
}

export interface DeliveredMessage {
  /** MAIL FROM and RCPT TO, as the server received them. */
  envelope: { from: string; to: string[] };
  /** Who logged in to send it. */
  user: string;
  /** The message as transferred (headers and body, CRLF line ends). */
  raw: string;
}

export interface FakeSmtp {
  port: number;
  messages: DeliveredMessage[];
  /** Connections accepted so far (a refused destination must open none). */
  connections: number;
  /** RCPT TO replies for these recipients: e.g. 550 (no such user) or 450 (mailbox busy). */
  refuseRecipient(address: string, code: number, text: string): void;
  /** Every next connection is greeted with this reply and closed (421: service not available). */
  refuseConnections(code: number, text: string): void;
  /** Every next message is answered with this reply after DATA (451: local error, try again). */
  refuseData(code: number, text: string): void;
  close(): Promise<void>;
}

/** An error smtp-server answers with `code text`. */
function reply(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

export async function startFakeSmtp(account: Account): Promise<FakeSmtp> {
  const recipientReplies = new Map<string, Error>();
  let connectionReply: Error | undefined;
  let dataReply: Error | undefined;
  const fake = { messages: [] as DeliveredMessage[], connections: 0 };
  const server = new SMTPServer({
    // Clear-text AUTH: the nodes' "none" security mode (TLS would need a certificate the client trusts).
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onConnect(_session, callback) {
      fake.connections++;
      callback(connectionReply);
    },
    onAuth(auth, _session, callback) {
      if (auth.username === account.user && auth.password === account.password) {
        return callback(null, { user: auth.username });
      }
      callback(new Error("Invalid username or password")); // smtp-server answers 535 5.7.8
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      callback(recipientReplies.get(address.address.toLowerCase()));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        if (dataReply) return callback(dataReply);
        fake.messages.push({
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((recipient) => recipient.address),
          },
          user: String(session.user),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return Object.assign(fake, {
    port,
    refuseRecipient: (address: string, code: number, text: string) =>
      void recipientReplies.set(address.toLowerCase(), reply(code, text)),
    refuseConnections: (code: number, text: string) => void (connectionReply = reply(code, text)),
    refuseData: (code: number, text: string) => void (dataReply = reply(code, text)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** The part of hoodiecrow's server the tests use (it ships no types). */
interface HoodiecrowServer {
  server: Server;
  listen(port: number, host: string, callback: () => void): void;
  getMailbox(path: string): { uidvalidity: number; uidnext: number; messages: { uid: number }[] } | undefined;
  appendMessage(mailbox: string, flags: string[], internaldate: Date, raw: string): unknown;
  close(callback?: () => void): void;
}

type Hoodiecrow = (options: Record<string, unknown>) => HoodiecrowServer;

export interface FakeImap {
  port: number;
  /** Delivers a message to a mailbox, as a mail server does: it gets the mailbox's next UID. */
  deliver(raw: string, options?: { mailbox?: string; flags?: string[] }): void;
  /** Deletes a message for good (as EXPUNGE by another client would): its UID is never used again. */
  expunge(uid: number, mailbox?: string): void;
  /** The mailbox's UIDVALIDITY: set it to renumber the mailbox, as recreating it would. */
  uidValidity(mailbox: string, value?: number): number;
  close(): Promise<void>;
}

export async function startFakeImap(
  account: Account,
  options: { mailboxes?: string[]; uidValidity?: number } = {},
): Promise<FakeImap> {
  const hoodiecrow = createRequire(import.meta.url)("hoodiecrow-imap") as Hoodiecrow;
  const folders = Object.fromEntries((options.mailboxes ?? []).map((name) => [name, {}]));
  const server = hoodiecrow({
    users: { [account.user]: { password: account.password } },
    storage: {
      INBOX: { uidvalidity: options.uidValidity ?? 1 },
      "": { separator: "/", folders },
    },
  });
  // hoodiecrow writes a reply in several small writes: without TCP_NODELAY each waits out a delayed ACK.
  server.server.on("connection", (socket: Socket) => socket.setNoDelay(true));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  const mailbox = (name: string) => {
    const found = server.getMailbox(name);
    if (!found) throw new Error(`no mailbox ${name} on the fake IMAP server`);
    return found;
  };
  return {
    port,
    deliver(raw, { mailbox: name = "INBOX", flags = [] } = {}) {
      mailbox(name);
      server.appendMessage(name, flags, new Date(), raw);
    },
    expunge(uid, name = "INBOX") {
      const messages = mailbox(name).messages;
      const index = messages.findIndex((message) => message.uid === uid);
      if (index < 0) throw new Error(`no message ${uid} in ${name}`);
      messages.splice(index, 1);
    },
    uidValidity(name, value) {
      if (value !== undefined) mailbox(name).uidvalidity = value;
      return mailbox(name).uidvalidity;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A message as a mail server stores it (CRLF line ends), from headers and a body. */
export function rawMessage(headers: Record<string, string>, body: string): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `${lines.join("\r\n")}\r\n\r\n${body.replace(/\r?\n/g, "\r\n")}`;
}

/** One account on both fakes: the user the servers accept. */
export const ACCOUNT: Account = { user: "ada@example.com", password: "app-password-1" };

/** The env the email nodes need to reach the fakes: loopback is refused unless listed. */
export const ALLOWED_LOOPBACK = { AREA_ALLOWED_HOSTS: "127.0.0.1" };

/**
 * An email connection's settings (what ctx.credentials holds) pointing at the fakes, in clear text:
 * the fakes have no certificate the client would trust. Port 1 stands for a server nobody runs.
 */
export function connectionSettings(
  ports: { smtp?: number; imap?: number },
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    address: "ada@example.com",
    display_name: "Ada Lovelace",
    smtp_host: "127.0.0.1",
    smtp_port: ports.smtp ?? 1,
    smtp_security: "none",
    smtp_user: ACCOUNT.user,
    smtp_password: ACCOUNT.password,
    imap_host: "127.0.0.1",
    imap_port: ports.imap ?? 1,
    imap_security: "none",
    imap_user: ACCOUNT.user,
    imap_password: ACCOUNT.password,
    ...overrides,
  };
}
