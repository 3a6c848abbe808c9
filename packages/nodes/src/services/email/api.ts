// An email connection and what the email nodes share: the account's SMTP server (sending) and IMAP
// server (reading) with their credentials, the platform's egress rule applied before any socket is
// opened, and SMTP and IMAP failures classified. nodemailer and imapflow are Node-only: they are
// imported inside the functions that connect, so the Deno functions can import the registry.
// SMTP: RFC 5321 (reply codes §4.2), implicit TLS RFC 8314, STARTTLS RFC 3207.
// IMAP: RFC 9051 / RFC 3501 (UIDVALIDITY and UIDNEXT §2.3.1.1, SEARCH, FETCH ENVELOPE).
import type { ImapFlow } from "imapflow";
import { z } from "zod";
import { type NodeContext, type ProviderAccount, secret } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { destinationRefusal, parseAllowedHosts, parseIp, refusalMessage } from "../../net.ts";

/** How a server connection is protected: implicit TLS, a required STARTTLS upgrade, or none (a trusted relay). */
const SECURITY_MODES = ["tls", "starttls", "none"] as const;
type Security = (typeof SECURITY_MODES)[number];

/** A DNS name (letters, digits, hyphens, underscores, dots) or an IP literal. */
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?)$/i;

const CONNECT_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 30_000;

// One builder per kind of field, used for both servers: the two halves of the form cannot drift apart.
const hostField = (server: string, placeholder: string) =>
  z.string().trim().min(1).max(253).regex(HOST, "must be a host name or IP address").meta({
    description: `The ${server} server's host name`,
    placeholder,
  });
const portField = (server: string, defaults: string) =>
  z.number().int().min(1).max(65535).optional().meta({ description: `The ${server} server's port (${defaults})` });
const securityField = (server: string) =>
  z.enum(SECURITY_MODES).default("tls").meta({
    description: `How the ${server} connection is encrypted: tls (implicit TLS), starttls (upgrade required), ` +
      "or none (only for a relay on a trusted network)",
  });
const userField = (server: string) =>
  z.string().trim().min(1).max(320).meta({ description: `The ${server} user name (usually your address)` });
const passwordField = (server: string) =>
  secret(`The ${server} password (an app password where the provider requires one)`);

/**
 * What an api_key connection to the `email` service holds: the address mail is sent from, and how to
 * reach and log in to the account's SMTP and IMAP servers. The api stores it encrypted; the worker
 * hands it over as ctx.credentials.
 */
export const emailCredentials = z.object({
  address: z.email().max(320).meta({ description: "Your email address: mail is sent from it" }),
  display_name: z.string().trim().max(100).regex(/^[^\r\n]*$/, "must be one line").optional().meta({
    description: "The name shown with your address (optional)",
  }),
  smtp_host: hostField("SMTP (outgoing mail)", "smtp.example.com"),
  smtp_port: portField("SMTP", "default 465 with tls, 587 with starttls, 25 with none"),
  smtp_security: securityField("SMTP"),
  smtp_user: userField("SMTP"),
  smtp_password: passwordField("SMTP"),
  imap_host: hostField("IMAP (incoming mail)", "imap.example.com"),
  imap_port: portField("IMAP", "default 993 with tls, 143 otherwise"),
  imap_security: securityField("IMAP"),
  imap_user: userField("IMAP"),
  imap_password: passwordField("IMAP"),
});

export type EmailCredentials = z.output<typeof emailCredentials>;

/** One server of the account, as a client connects to it. */
export interface ServerSettings {
  host: string;
  port: number;
  security: Security;
  user: string;
  password: string;
}

/** The connection's settings; a connection without them is one to redo, not a message to retry. */
export function readCredentials(ctx: NodeContext): EmailCredentials {
  const parsed = emailCredentials.safeParse(ctx.credentials ?? {});
  if (!parsed.success) {
    throw new AuthError(
      `the email connection's settings are incomplete (${z.prettifyError(parsed.error)}): reconnect it`,
    );
  }
  return parsed.data;
}

/** The default ports (RFC 8314 for implicit TLS; submission 587 and relay 25 for SMTP; IMAP 143). */
const DEFAULT_PORTS: Record<"smtp" | "imap", Record<Security, number>> = {
  smtp: { tls: 465, starttls: 587, none: 25 },
  imap: { tls: 993, starttls: 143, none: 143 },
};

/** The settings of one of the account's servers, its port defaulting to the security mode's. */
export function serverSettings(credentials: EmailCredentials, server: "smtp" | "imap"): ServerSettings {
  const security = credentials[`${server}_security`];
  return {
    host: credentials[`${server}_host`],
    port: credentials[`${server}_port`] ?? DEFAULT_PORTS[server][security],
    security,
    user: credentials[`${server}_user`],
    password: credentials[`${server}_password`],
  };
}

/**
 * The address to connect to for `host`, under the rule the node fetch applies to URLs (net.ts): no
 * loopback, private, link-local or metadata address unless AREA_ALLOWED_HOSTS lists the host or the
 * address. The node context offers no socket API, so the name is resolved here, every address it
 * resolves to is checked, and the client then connects to the checked address itself (TLS still
 * verifies the certificate against the name): a second lookup that answers differently (DNS
 * rebinding) is never made.
 */
async function checkedAddress(ctx: NodeContext, host: string): Promise<string> {
  const allowed = parseAllowedHosts(ctx.env.AREA_ALLOWED_HOSTS);
  const name = host.replace(/^\[(.*)\]$/, "$1");
  // IP literals and names refused whatever they resolve to (localhost, metadata) need no lookup.
  const early = destinationRefusal(name, [], allowed);
  if (early) throw new PermanentError(refusalMessage(early));
  const { lookup } = await import("node:dns/promises");
  let addresses: { address: string }[];
  try {
    addresses = await lookup(name, { all: true, verbatim: true });
  } catch (error) {
    throw new RetryableError(`resolving ${name} failed: ${(error as { code?: string }).code ?? String(error)}`, {
      cause: error,
    });
  }
  if (addresses.length === 0) throw new RetryableError(`resolving ${name} returned no address`);
  const refusal = destinationRefusal(name, addresses.map((entry) => entry.address), allowed);
  if (refusal) throw new PermanentError(refusalMessage(refusal));
  return addresses[0].address;
}

/** The TLS server name: the host when it is a name (SNI and certificate check), none for an IP literal. */
function serverName(host: string): string | undefined {
  return parseIp(host) ? undefined : host.replace(/\.$/, "");
}

/** Calls `close` if the job is aborted while `use` runs (a hung server must not hold the worker). */
async function closedOnAbort<T>(ctx: NodeContext, close: () => void, use: () => Promise<T>): Promise<T> {
  if (ctx.signal.aborted) throw new RetryableError("the job was aborted before connecting");
  ctx.signal.addEventListener("abort", close, { once: true });
  try {
    return await use();
  } finally {
    ctx.signal.removeEventListener("abort", close);
  }
}

/** The part of a nodemailer SMTP transport the nodes use. */
export interface SmtpTransport {
  sendMail(message: Record<string, unknown>): Promise<{ messageId: string; accepted: unknown[]; rejected: unknown[] }>;
  verify(): Promise<unknown>;
}

/** Runs `use` with an SMTP transport to the account's server; failures come out classified. */
export async function withSmtp<T>(
  ctx: NodeContext,
  settings: ServerSettings,
  use: (transport: SmtpTransport) => Promise<T>,
): Promise<T> {
  const address = await checkedAddress(ctx, settings.host);
  const nodemailer = await import("nodemailer");
  const transport = nodemailer.createTransport({
    host: address,
    servername: serverName(settings.host),
    port: settings.port,
    secure: settings.security === "tls",
    requireTLS: settings.security === "starttls",
    ignoreTLS: settings.security === "none",
    auth: { user: settings.user, pass: settings.password },
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // Message content comes from templates over event data: never read files or URLs it names.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  try {
    return await closedOnAbort(ctx, () => transport.close(), () => use(transport));
  } catch (error) {
    throw smtpFailure(error, settings);
  } finally {
    transport.close();
  }
}

/** What nodemailer attaches to its errors (nodemailer's NodemailerError, the fields read here). */
interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  recipient?: string;
  rejectedErrors?: SmtpError[];
  message?: string;
}

/** SMTP replies that mean the credentials were refused (RFC 4954 §6: 535, 534; 530 authentication required). */
const SMTP_AUTH_REPLIES = new Set([530, 534, 535]);

/**
 * A nodemailer failure as the platform's error classes: refused credentials → AuthError; a 5xx reply
 * (a rejected recipient or message) → PermanentError, naming the recipients; 4xx replies, network
 * failures and timeouts → RetryableError.
 */
function smtpFailure(error: unknown, settings: Pick<ServerSettings, "host" | "user">): unknown {
  if (error instanceof RetryableError || error instanceof PermanentError) return error;
  const failure = (error ?? {}) as SmtpError;
  const reply = failure.response ? `: ${failure.response}` : failure.message ? `: ${failure.message}` : "";
  const where = `SMTP server ${settings.host}`;
  if (failure.code === "EAUTH" || failure.code === "ENOAUTH" || SMTP_AUTH_REPLIES.has(failure.responseCode ?? 0)) {
    return new AuthError(`${where} refused the login of ${settings.user}${reply}`, {
      status: failure.responseCode,
      cause: error,
    });
  }
  const rejected = failure.rejectedErrors ?? [];
  if (failure.code === "EENVELOPE" && rejected.length > 0) {
    const list = rejected.map((entry) => `${entry.recipient} (${entry.response ?? entry.responseCode})`).join(", ");
    // One deferred (4xx) recipient makes the whole send worth retrying: nothing was delivered.
    const deferred = rejected.some((entry) => entry.permanent === false);
    const message = `${where} rejected every recipient: ${list}`;
    return deferred
      ? new RetryableError(message, { status: failure.responseCode, cause: error })
      : new PermanentError(message, { status: failure.responseCode, cause: error });
  }
  // Before the reply code: a STARTTLS the server refuses (500, 454) is a setting to fix, not a message refused.
  if (failure.code === "ETLS" || failure.code === "EREQUIRETLS") {
    return new PermanentError(`${where}: TLS failed${reply} (check the security mode and port)`, { cause: error });
  }
  const code = failure.responseCode;
  if (code !== undefined && code >= 500 && failure.permanent !== false) {
    return new PermanentError(`${where} refused the message${reply}`, { status: code, cause: error });
  }
  if (code !== undefined) {
    return new RetryableError(`${where} answered ${code}, try again later${reply}`, { status: code, cause: error });
  }
  return new RetryableError(`${where} failed (${failure.code ?? "error"})${reply}`, { cause: error });
}

/** Runs `use` with an IMAP client logged in to the account's server; failures come out classified. */
export async function withImap<T>(
  ctx: NodeContext,
  settings: ServerSettings,
  use: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const address = await checkedAddress(ctx, settings.host);
  const { ImapFlow } = await import("imapflow");
  const client = new ImapFlow({
    host: address,
    servername: serverName(settings.host),
    port: settings.port,
    secure: settings.security === "tls",
    // starttls: upgrade or fail (no silent downgrade); none: stay in clear text.
    doSTARTTLS: settings.security === "tls" ? undefined : settings.security === "starttls",
    auth: { user: settings.user, pass: settings.password },
    logger: false,
    // One poll is a few commands and a logout: no IDLE between them.
    disableAutoIdle: true,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
  });
  // imapflow also reports socket failures as 'error' events; unheard, they would crash the worker.
  client.on("error", (error: Error) => ctx.log.debug("IMAP connection error", { error: error.message }));
  try {
    return await closedOnAbort(ctx, () => client.close(), async () => {
      await client.connect();
      const result = await use(client);
      await client.logout();
      return result;
    });
  } catch (error) {
    throw imapFailure(error, settings);
  } finally {
    client.close();
  }
}

/** What imapflow attaches to its errors (imapflow's ImapFlowError, the fields read here). */
interface ImapError {
  code?: string;
  authenticationFailed?: boolean;
  serverResponseCode?: string;
  responseStatus?: string;
  responseText?: string;
  message?: string;
}

/** RFC 5530 response codes for refused credentials. */
const IMAP_AUTH_CODES = new Set(["AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED", "EXPIRED", "PRIVACYREQUIRED"]);

/**
 * An imapflow failure as the platform's error classes: refused credentials → AuthError; a command the
 * server refused (NO/BAD: a missing mailbox, an unsupported search) → PermanentError; network
 * failures and timeouts → RetryableError.
 */
function imapFailure(error: unknown, settings: Pick<ServerSettings, "host" | "user">): unknown {
  if (error instanceof RetryableError || error instanceof PermanentError) return error;
  const failure = (error ?? {}) as ImapError;
  const where = `IMAP server ${settings.host}`;
  const text = failure.responseText ?? failure.message ?? String(error);
  if (failure.authenticationFailed || IMAP_AUTH_CODES.has(failure.serverResponseCode ?? "")) {
    return new AuthError(`${where} refused the login of ${settings.user}: ${text}`, { cause: error });
  }
  if (failure.serverResponseCode === "UNAVAILABLE" || failure.serverResponseCode === "INUSE") {
    return new RetryableError(`${where} is unavailable: ${text}`, { cause: error });
  }
  if (failure.responseStatus === "NO" || failure.responseStatus === "BAD") {
    return new PermanentError(`${where} refused the command: ${text}`, { cause: error });
  }
  return new RetryableError(`${where} failed (${failure.code ?? "error"}): ${text}`, { cause: error });
}

/**
 * The account behind a connection's settings, checked by logging in to both servers: what the api
 * needs to store an api_key connection to `email` (provider_account_id = id, provider_login = login).
 * Refused credentials are an AuthError; an unreachable server a RetryableError. It opens SMTP and IMAP
 * sockets (Node, or Deno's Node compatibility; hosted Supabase Edge Functions refuse ports 25 and 587).
 */
export async function emailIdentity(ctx: NodeContext): Promise<ProviderAccount> {
  const credentials = readCredentials(ctx);
  await withSmtp(ctx, serverSettings(credentials, "smtp"), (transport) => transport.verify());
  await withImap(ctx, serverSettings(credentials, "imap"), async () => {});
  return { id: credentials.address.toLowerCase(), login: credentials.address };
}
