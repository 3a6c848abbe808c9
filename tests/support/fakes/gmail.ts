// A local fake of Google's OAuth2 endpoints and the Gmail REST API (Node only), one mailbox, following
// Google's documented requests and answers:
// https://developers.google.com/identity/protocols/oauth2/web-server (authorize, token, refresh, revoke)
// https://developers.google.com/identity/openid-connect/openid-connect#obtainuserinfo (userinfo)
// https://developers.google.com/workspace/gmail/api/reference/rest (users.getProfile, users.history.list,
//   users.messages list/get/send/modify, users.labels.list)
// https://developers.google.com/workspace/gmail/api/guides/handle-errors (error bodies, 401, 403, 429)
// https://developers.google.com/workspace/gmail/api/guides/filtering (search: `q`, `after:` in epoch seconds)
// It serves every Google host at one origin (GOOGLE_OAUTH_URL, GOOGLE_TOKEN_URL, GOOGLE_USERINFO_URL and
// GMAIL_API_URL all point here), checks the bearer token and its scopes, keeps a mailbox history with
// non-contiguous ids that can expire (404 on an old startHistoryId), pages with pageToken, answers with
// Google's error body `{"error": {code, message, errors: [{message, domain, reason}], status}}`, and
// records every request. Search understands a subset of Gmail's syntax (see `matches`) and answers 400
// for the rest, so a test cannot rely on what the fake does not do.
import { createHash, randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { type Received, sendJson, startReceiver } from "../receiver.ts";

export type RecordedRequest = Received;

export const GMAIL_MODIFY_SCOPE = "https://www.googleapis.com/auth/gmail.modify";

export interface GmailLabel {
  id: string;
  name: string;
  type: "system" | "user";
}

export interface FakeMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  /** Epoch milliseconds: when Gmail received it. */
  internalDate: number;
  headers: { name: string; value: string }[];
  /** The plain text body. */
  text: string;
  /** The RFC 2822 message, for messages sent through the API. */
  raw?: string;
}

export interface FakeGmailOptions {
  /** Port on 127.0.0.1 (0: any free one). */
  port?: number;
  /** The mailbox's address (default ada@gmail.com). */
  address?: string;
  /** Access tokens Gmail accepts besides those its token endpoint issues, with every scope. */
  tokens?: string[];
  /** Access tokens without the Gmail scope (the user unticked it at consent): every Gmail call is a 403. */
  tokensWithoutGmailScope?: string[];
  /** Most items one list page holds, whatever maxResults asks: Google's lists may return fewer. */
  maxPageSize?: number;
  /** The OAuth client the token endpoint knows. */
  client?: { id: string; secret: string };
}

export interface FakeGmail {
  origin: string;
  address: string;
  requests: RecordedRequest[];
  /** Mail arriving from outside: labelled INBOX and UNREAD unless `labelIds` says otherwise. */
  deliver(mail?: {
    from?: string;
    to?: string;
    subject?: string;
    text?: string;
    date?: string;
    labelIds?: string[];
    receivedAt?: Date;
  }): FakeMessage;
  message(id: string): FakeMessage | undefined;
  /** Messages sent through messages.send, oldest first. */
  sent(): FakeMessage[];
  /** Deletes a message for good (messages.get then answers 404). */
  remove(id: string): void;
  /** A user label, as Gmail's settings create it. */
  createLabel(name: string): GmailLabel;
  /** The mailbox's current history id. */
  historyId(): string;
  /** History before now is no longer kept: a startHistoryId older than the current one gets a 404. */
  expireHistory(): void;
  /**
   * The next `count` Gmail calls are refused: 429 (rateLimitExceeded) or 403 (userRateLimitExceeded,
   * with Gmail's "Retry after <time>" in the message when `retryAfter` is given). `header` adds Retry-After.
   */
  rateLimit(options: { status: 429 | 403; retryAfter?: number; header?: boolean; count?: number }): void;
  /** The query of each authorize request, and the form of each token request. */
  authorizeRequests: URLSearchParams[];
  tokenRequests: URLSearchParams[];
  close(): Promise<void>;
}

const SYSTEM_LABELS = [
  "INBOX",
  "SPAM",
  "TRASH",
  "UNREAD",
  "STARRED",
  "IMPORTANT",
  "SENT",
  "DRAFT",
  "CHAT",
  "CATEGORY_PERSONAL",
  "CATEGORY_SOCIAL",
  "CATEGORY_PROMOTIONS",
  "CATEGORY_UPDATES",
  "CATEGORY_FORUMS",
];

interface HistoryRecord {
  id: bigint;
  type: "messagesAdded" | "messagesDeleted" | "labelsAdded" | "labelsRemoved";
  message: { id: string; threadId: string; labelIds: string[] };
  labelIds?: string[];
}

interface Grant {
  scope: string;
  refreshToken?: string;
  accessTokens: Set<string>;
  revoked: boolean;
}

/** Google's error body. */
function googleError(code: number, message: string, reason: string, status: string, domain = "global") {
  return { error: { code, message, errors: [{ message, domain, reason }], status } };
}

const notFound = () => googleError(404, "Requested entity was not found.", "notFound", "NOT_FOUND");
const invalidArgument = (message: string) => googleError(400, message, "invalidArgument", "INVALID_ARGUMENT");

/** A header value with RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`) decoded. */
function decodeWords(value: string): string {
  return value.replace(/\?=\s+=\?/g, "?==?").replace(
    /=\?([^?]+)\?([QB])\?([^?]*)\?=/gi,
    (_, _charset: string, encoding: string, text: string) =>
      encoding.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : decodeQuotedPrintable(text.replace(/_/g, " ")),
  );
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const soft = text.replace(/=\r?\n/g, "");
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === "=" && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(soft[i]));
  }
  return Buffer.from(bytes).toString("utf8");
}

export interface ParsedPart {
  headers: { name: string; value: string }[];
  /** Decoded (transfer encoding undone) for a leaf part; the raw text for a multipart one. */
  body: string;
  parts: ParsedPart[];
}

/** One header's decoded value, or undefined. */
export function headerOf(part: Pick<ParsedPart, "headers">, name: string): string | undefined {
  return part.headers.find((header) => header.name.toLowerCase() === name.toLowerCase())?.value;
}

/** An RFC 2822 message (or MIME part) parsed: unfolded, decoded headers; decoded leaf bodies; multipart parts. */
export function parseMessage(raw: string): ParsedPart {
  const split = /\r?\n\r?\n/.exec(raw);
  const head = split ? raw.slice(0, split.index) : raw;
  const body = split ? raw.slice(split.index + split[0].length) : "";
  const headers = head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/).filter(Boolean).map((line) => {
    const colon = line.indexOf(":");
    return { name: line.slice(0, colon).trim(), value: decodeWords(line.slice(colon + 1).trim()) };
  });
  const type = headerOf({ headers }, "content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const sections = body.split(`--${boundary}`).slice(1);
    const parts = sections.filter((section) => !section.startsWith("--")).map((section) =>
      parseMessage(section.replace(/^\r?\n/, "").replace(/\r?\n$/, ""))
    );
    return { headers, body, parts };
  }
  const encoding = (headerOf({ headers }, "content-transfer-encoding") ?? "7bit").toLowerCase();
  const decoded = encoding === "quoted-printable"
    ? decodeQuotedPrintable(body)
    : encoding === "base64"
    ? Buffer.from(body, "base64").toString("utf8")
    : body;
  return { headers, body: decoded, parts: [] };
}

/** The first text/plain leaf of a parsed message. */
function plainText(part: ParsedPart): string {
  if (part.parts.length) return part.parts.map(plainText).find((text) => text !== "") ?? "";
  return /^text\/plain/i.test(headerOf(part, "content-type") ?? "text/plain") ? part.body : "";
}

/** The bare addresses of an address header (`Ada <ada@x>, bob@y` → ada@x, bob@y). */
function addresses(value: string | undefined): string[] {
  return (value ?? "").split(",").map((entry) => (/<([^>]+)>/.exec(entry)?.[1] ?? entry).trim()).filter(Boolean);
}

const snippetOf = (text: string) =>
  text.replace(/\s+/g, " ").trim().slice(0, 200).replace(/&/g, "&amp;").replace(/'/g, "&#39;").replace(
    /"/g,
    "&quot;",
  ).replace(/</g, "&lt;").replace(/>/g, "&gt;");

export async function startFakeGmail(options: FakeGmailOptions = {}): Promise<FakeGmail> {
  const address = options.address ?? "ada@gmail.com";
  const sub = "110248495921238986420";
  const messages = new Map<string, FakeMessage>();
  const sentIds: string[] = [];
  const labels: GmailLabel[] = SYSTEM_LABELS.map((id) => ({ id, name: id, type: "system" }));
  const history: HistoryRecord[] = [];
  let current = 1_000_000n;
  let historyFloor = 0n;
  let userLabels = 0;
  let limited: { status: 429 | 403; retryAfter?: number; header: boolean; count: number } | undefined;
  const grants: Grant[] = [];
  const staticTokens = new Set(options.tokens ?? []);
  const limitedTokens = new Set(options.tokensWithoutGmailScope ?? []);
  const codes = new Map<
    string,
    { clientId: string; redirectUri: string; scope: string; challenge?: string; offline: boolean }
  >();
  const authorizeRequests: URLSearchParams[] = [];
  const tokenRequests: URLSearchParams[] = [];

  /** Ids grow with every change, by uneven steps ("not contiguous with random gaps"). */
  const nextHistoryId = () => (current += BigInt(1 + Math.floor(Math.random() * 5)));
  const newId = () => randomBytes(8).toString("hex");
  const snapshot = (message: FakeMessage) => ({
    id: message.id,
    threadId: message.threadId,
    labelIds: [...message.labelIds],
  });

  function record(type: HistoryRecord["type"], message: FakeMessage, labelIds?: string[]) {
    history.push({ id: nextHistoryId(), type, message: snapshot(message), labelIds });
  }

  function store(message: FakeMessage): FakeMessage {
    messages.set(message.id, message);
    record("messagesAdded", message);
    return message;
  }

  /** The grant an access token belongs to, a static token's stand-in, or undefined. */
  function tokenScope(token: string | undefined): string | undefined {
    if (token === undefined) return undefined;
    if (staticTokens.has(token)) return `openid email ${GMAIL_MODIFY_SCOPE}`;
    if (limitedTokens.has(token)) return "openid email";
    const grant = grants.find((candidate) => !candidate.revoked && candidate.accessTokens.has(token));
    return grant?.scope;
  }

  const bearer = (request: RecordedRequest) => /^Bearer (\S+)$/.exec(request.headers.authorization ?? "")?.[1];

  // --- search -------------------------------------------------------------------------------------------

  /** Whether a message matches a query of whitespace-separated terms, all required (parentheses only group). */
  function matches(message: FakeMessage, query: string): boolean | string {
    const terms = query.match(/-?(?:[a-z0-9]+:)?(?:"[^"]*"|[^\s()"]+)/gi) ?? [];
    if (/[{}]|\bOR\b|\bAND\b/.test(query)) return "OR, AND and {} are not supported by the fake";
    const header = (name: string) => (headerOf(message, name) ?? "").toLowerCase();
    for (const term of terms) {
      const negated = term.startsWith("-");
      const [, operator, rawValue] = /^-?(?:([a-z0-9]+):)?(.*)$/i.exec(term)!;
      const value = rawValue.replace(/^"|"$/g, "").toLowerCase();
      let hit: boolean;
      switch (operator?.toLowerCase()) {
        case undefined:
          hit = [header("subject"), header("from"), header("to"), message.text.toLowerCase()].some((text) =>
            text.includes(value)
          );
          break;
        case "from":
        case "to":
        case "subject":
          hit = header(operator).includes(value);
          break;
        case "label":
        case "in": {
          const wanted = labels.find((label) => label.name.toLowerCase() === value || label.id.toLowerCase() === value);
          hit = value === "anywhere" || (wanted !== undefined && message.labelIds.includes(wanted.id));
          break;
        }
        case "is":
          if (value !== "unread" && value !== "read" && value !== "starred") return `is:${value} is not supported`;
          hit = value === "read"
            ? !message.labelIds.includes("UNREAD")
            : message.labelIds.includes(value.toUpperCase());
          break;
        case "after":
        case "before": {
          if (!/^\d+$/.test(value)) return `${operator}: takes epoch seconds in the fake`;
          const seconds = message.internalDate / 1000;
          hit = operator === "after" ? seconds > Number(value) : seconds < Number(value);
          break;
        }
        case "rfc822msgid":
          hit = header("message-id").replace(/^<|>$/g, "") === value.replace(/^<|>$/g, "");
          break;
        default:
          return `${operator}: is not supported by the fake`;
      }
      if (hit === negated) return false;
    }
    return true;
  }

  // --- pages --------------------------------------------------------------------------------------------

  function page<T>(items: T[], url: URL): { items: T[]; nextPageToken?: string } | { error: string } {
    const asked = url.searchParams.get("maxResults");
    const maxResults = asked === null ? 100 : Number(asked);
    if (!Number.isInteger(maxResults) || maxResults < 1) return { error: `Invalid maxResults: ${asked}` };
    const size = Math.min(maxResults, 500, options.maxPageSize ?? 500);
    const token = url.searchParams.get("pageToken");
    const start = token === null ? 0 : Number(Buffer.from(token, "base64url").toString());
    if (!Number.isInteger(start) || start < 0) return { error: "Invalid pageToken" };
    const slice = items.slice(start, start + size);
    const more = start + size < items.length;
    return {
      items: slice,
      ...(more ? { nextPageToken: Buffer.from(String(start + size)).toString("base64url") } : {}),
    };
  }

  // --- OAuth ----------------------------------------------------------------------------------------------

  function authorize(response: ServerResponse, url: URL) {
    const query = url.searchParams;
    authorizeRequests.push(query);
    const redirectUri = query.get("redirect_uri");
    if (query.get("client_id") !== options.client?.id || !redirectUri) {
      return sendJson(response, 400, { error: "invalid_request", error_description: "Invalid client or redirect_uri" });
    }
    const challenge = query.get("code_challenge") ?? undefined;
    if (challenge && query.get("code_challenge_method") !== "S256") {
      return sendJson(response, 400, { error: "invalid_request", error_description: "Invalid code_challenge_method" });
    }
    const code = `4/0${randomBytes(12).toString("base64url")}`;
    const scope = query.get("scope") ?? "";
    codes.set(code, {
      clientId: query.get("client_id")!,
      redirectUri,
      scope,
      challenge,
      // A refresh token comes with offline access, on a consent screen the user saw (prompt=consent).
      offline: query.get("access_type") === "offline" && query.get("prompt") === "consent",
    });
    const back = new URL(redirectUri);
    back.searchParams.set("state", query.get("state") ?? "");
    back.searchParams.set("code", code);
    back.searchParams.set("scope", scope);
    response.writeHead(302, { location: back.href }).end();
  }

  function token(request: RecordedRequest, response: ServerResponse) {
    const form = new URLSearchParams(request.body);
    tokenRequests.push(form);
    const fail = (status: number, error: string, description: string) =>
      sendJson(response, status, { error, error_description: description });
    if (form.get("client_id") !== options.client?.id || form.get("client_secret") !== options.client?.secret) {
      return fail(401, "invalid_client", "Unauthorized");
    }
    const issue = (grant: Grant, withRefresh: boolean) => {
      const accessToken = `ya29.${randomBytes(24).toString("base64url")}`;
      grant.accessTokens.add(accessToken);
      sendJson(response, 200, {
        access_token: accessToken,
        expires_in: 3599,
        ...(withRefresh && grant.refreshToken ? { refresh_token: grant.refreshToken } : {}),
        scope: grant.scope,
        token_type: "Bearer",
        id_token: "eyJhbGciOiJSUzI1NiJ9.e30.fake",
      });
    };
    if (form.get("grant_type") === "authorization_code") {
      const code = codes.get(form.get("code") ?? "");
      codes.delete(form.get("code") ?? "");
      if (!code || code.redirectUri !== form.get("redirect_uri")) return fail(400, "invalid_grant", "Bad Request");
      if (code.challenge) {
        const verifier = form.get("code_verifier") ?? "";
        if (createHash("sha256").update(verifier).digest("base64url") !== code.challenge) {
          return fail(400, "invalid_grant", "Invalid code verifier.");
        }
      }
      const grant: Grant = {
        scope: code.scope,
        refreshToken: code.offline ? `1//0${randomBytes(24).toString("base64url")}` : undefined,
        accessTokens: new Set(),
        revoked: false,
      };
      grants.push(grant);
      return issue(grant, true);
    }
    if (form.get("grant_type") === "refresh_token") {
      const grant = grants.find((candidate) => candidate.refreshToken === form.get("refresh_token"));
      if (!grant || grant.revoked) return fail(400, "invalid_grant", "Token has been expired or revoked.");
      return issue(grant, false); // a refresh answer has no new refresh token
    }
    return fail(400, "unsupported_grant_type", `Invalid grant_type: ${form.get("grant_type")}`);
  }

  function revoke(request: RecordedRequest, response: ServerResponse, url: URL) {
    const value = new URLSearchParams(request.body).get("token") ?? url.searchParams.get("token");
    // Revoking an access token revokes its refresh token too, and the other way round.
    const grant = grants.find((candidate) =>
      !candidate.revoked && (candidate.refreshToken === value || candidate.accessTokens.has(value ?? ""))
    );
    if (!grant) {
      return sendJson(response, 400, { error: "invalid_token", error_description: "Token expired or revoked" });
    }
    grant.revoked = true;
    sendJson(response, 200, {});
  }

  function userinfo(request: RecordedRequest, response: ServerResponse) {
    const scope = tokenScope(bearer(request));
    if (scope === undefined) {
      return sendJson(response, 401, { error: "invalid_request", error_description: "Invalid Credentials" }, {
        "www-authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"',
      });
    }
    const granted = scope.split(" ");
    sendJson(response, 200, {
      sub,
      picture: "https://lh3.googleusercontent.com/a/default-user",
      ...(granted.includes("email") ? { email: address, email_verified: true } : {}),
    });
  }

  // --- Gmail ----------------------------------------------------------------------------------------------

  function messageResource(message: FakeMessage, url: URL) {
    const format = url.searchParams.get("format") ?? "full";
    const base = {
      id: message.id,
      threadId: message.threadId,
      labelIds: message.labelIds,
      snippet: snippetOf(message.text),
      sizeEstimate: (message.raw ?? message.text).length + 200,
      historyId: String(current),
      internalDate: String(message.internalDate),
    };
    if (format === "minimal") return base;
    if (format === "raw") return { ...base, raw: Buffer.from(message.raw ?? message.text).toString("base64url") };
    const wanted = url.searchParams.getAll("metadataHeaders").map((name) => name.toLowerCase());
    const headers = format === "metadata" && wanted.length
      ? message.headers.filter((header) => wanted.includes(header.name.toLowerCase()))
      : message.headers;
    return { ...base, payload: { partId: "", mimeType: "text/plain", filename: "", headers } };
  }

  function send(request: RecordedRequest, response: ServerResponse) {
    let body: { raw?: unknown };
    try {
      body = JSON.parse(request.body);
    } catch {
      return sendJson(response, 400, invalidArgument("Invalid JSON payload received."));
    }
    if (typeof body.raw !== "string" || body.raw === "") {
      return sendJson(
        response,
        400,
        invalidArgument("'raw' RFC822 payload message string or uploading message via /upload/* URL required"),
      );
    }
    if (!/^[A-Za-z0-9_-]+=*$/.test(body.raw)) {
      return sendJson(response, 400, invalidArgument("Invalid value at 'message.raw' (TYPE_BYTES)"));
    }
    const raw = Buffer.from(body.raw, "base64url").toString("utf8");
    const parsed = parseMessage(raw);
    const recipients = ["to", "cc", "bcc"].flatMap((name) => addresses(headerOf(parsed, name)));
    if (recipients.length === 0) return sendJson(response, 400, invalidArgument("Recipient address required"));
    if (recipients.some((recipient) => !/^[^\s@]+@[^\s@]+$/.test(recipient))) {
      return sendJson(response, 400, invalidArgument("Invalid To header"));
    }
    const headers = parsed.headers.filter((header) => header.name.toLowerCase() !== "bcc");
    // Gmail sends from the account, and gives a message without one a Message-ID.
    if (!headerOf(parsed, "from")) headers.unshift({ name: "From", value: address });
    if (!headerOf(parsed, "message-id")) headers.push({ name: "Message-ID", value: `<${newId()}@mail.gmail.com>` });
    const replyTo = headerOf(parsed, "in-reply-to");
    const parent = [...messages.values()].find((message) => replyTo && headerOf(message, "message-id") === replyTo);
    const id = newId();
    const toSelf = recipients.includes(address);
    const message = store({
      id,
      threadId: parent?.threadId ?? id,
      labelIds: toSelf ? ["SENT", "INBOX", "UNREAD"] : ["SENT"],
      internalDate: Date.now(),
      headers,
      text: plainText(parsed),
      raw,
    });
    sentIds.push(id);
    sendJson(response, 200, { id: message.id, threadId: message.threadId, labelIds: message.labelIds });
  }

  function modify(request: RecordedRequest, response: ServerResponse, message: FakeMessage) {
    let body: { addLabelIds?: unknown; removeLabelIds?: unknown };
    try {
      body = JSON.parse(request.body);
    } catch {
      return sendJson(response, 400, invalidArgument("Invalid JSON payload received."));
    }
    const list = (value: unknown) => Array.isArray(value) ? value.map(String) : [];
    const add = list(body.addLabelIds);
    const remove = list(body.removeLabelIds);
    const unknown = [...add, ...remove].find((id) => !labels.some((label) => label.id === id));
    if (unknown !== undefined) return sendJson(response, 400, invalidArgument(`Invalid label: ${unknown}`));
    if (add.length === 0 && remove.length === 0) {
      return sendJson(response, 400, invalidArgument("No label add or removes specified"));
    }
    const added = add.filter((id) => !message.labelIds.includes(id));
    const removed = remove.filter((id) => message.labelIds.includes(id));
    message.labelIds = [...message.labelIds.filter((id) => !removed.includes(id)), ...added];
    if (added.length) record("labelsAdded", message, added);
    if (removed.length) record("labelsRemoved", message, removed);
    sendJson(response, 200, { id: message.id, threadId: message.threadId, labelIds: message.labelIds });
  }

  function historyList(response: ServerResponse, url: URL) {
    const start = url.searchParams.get("startHistoryId");
    if (start === null) return sendJson(response, 400, invalidArgument("Required parameter: startHistoryId"));
    if (!/^\d+$/.test(start)) return sendJson(response, 400, invalidArgument(`Invalid startHistoryId: ${start}`));
    if (BigInt(start) < historyFloor) return sendJson(response, 404, notFound());
    const types = url.searchParams.getAll("historyTypes");
    const labelId = url.searchParams.get("labelId");
    const records = history.filter((entry) =>
      entry.id > BigInt(start) &&
      (types.length === 0 || types.includes(entry.type.replace(/s(?=[A-Z])/, ""))) &&
      (labelId === null || entry.message.labelIds.includes(labelId))
    );
    const result = page(records, url);
    if ("error" in result) return sendJson(response, 400, invalidArgument(result.error));
    const items = result.items.map((entry) => ({
      id: String(entry.id),
      messages: [{ id: entry.message.id, threadId: entry.message.threadId }],
      [entry.type]: [{ message: entry.message, ...(entry.labelIds ? { labelIds: entry.labelIds } : {}) }],
    }));
    sendJson(response, 200, {
      ...(items.length ? { history: items } : {}),
      ...(result.nextPageToken ? { nextPageToken: result.nextPageToken } : {}),
      historyId: String(current),
    });
  }

  function messageList(response: ServerResponse, url: URL) {
    const query = url.searchParams.get("q") ?? "";
    const labelIds = url.searchParams.getAll("labelIds");
    const spamTrash = url.searchParams.get("includeSpamTrash") === "true";
    const found: FakeMessage[] = [];
    for (const message of messages.values()) {
      const match = matches(message, query);
      if (typeof match === "string") return sendJson(response, 400, invalidArgument(`fake gmail search: ${match}`));
      if (!match || !labelIds.every((id) => message.labelIds.includes(id))) continue;
      if (!spamTrash && message.labelIds.some((id) => id === "SPAM" || id === "TRASH")) continue;
      found.push(message);
    }
    found.sort((a, b) => b.internalDate - a.internalDate); // newest first, as Gmail lists
    const result = page(found, url);
    if ("error" in result) return sendJson(response, 400, invalidArgument(result.error));
    sendJson(response, 200, {
      ...(result.items.length ? { messages: result.items.map(({ id, threadId }) => ({ id, threadId })) } : {}),
      ...(result.nextPageToken ? { nextPageToken: result.nextPageToken } : {}),
      resultSizeEstimate: found.length,
    });
  }

  function gmail(request: RecordedRequest, response: ServerResponse, url: URL, path: string) {
    const scope = tokenScope(bearer(request));
    if (scope === undefined) {
      return sendJson(
        response,
        401,
        {
          error: {
            code: 401,
            message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie " +
              "or other valid authentication credential.",
            errors: [{
              message: "Invalid Credentials",
              domain: "global",
              reason: "authError",
              location: "Authorization",
              locationType: "header",
            }],
            status: "UNAUTHENTICATED",
          },
        },
        { "www-authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
      );
    }
    if (!scope.split(" ").includes(GMAIL_MODIFY_SCOPE)) {
      return sendJson(
        response,
        403,
        googleError(
          403,
          "Request had insufficient authentication scopes.",
          "insufficientPermissions",
          "PERMISSION_DENIED",
        ),
        { "www-authenticate": 'Bearer realm="https://accounts.google.com/", error="insufficient_scope"' },
      );
    }
    if (limited && limited.count > 0) {
      limited.count--;
      const headers: Record<string, string> = limited.header && limited.retryAfter !== undefined
        ? { "retry-after": String(limited.retryAfter) }
        : {};
      if (limited.status === 429) {
        return sendJson(
          response,
          429,
          googleError(
            429,
            "Too many concurrent requests for user.",
            "rateLimitExceeded",
            "RESOURCE_EXHAUSTED",
            "usageLimits",
          ),
          headers,
        );
      }
      const until = limited.retryAfter === undefined
        ? ""
        : `  Retry after ${new Date(Date.now() + limited.retryAfter * 1000).toISOString()}`;
      return sendJson(
        response,
        403,
        googleError(
          403,
          `User-rate limit exceeded.${until}`,
          "userRateLimitExceeded",
          "PERMISSION_DENIED",
          "usageLimits",
        ),
        headers,
      );
    }

    const user = /^\/gmail\/v1\/users\/([^/]+)(\/.*)$/.exec(path);
    if (!user) return sendJson(response, 404, notFound());
    const userId = decodeURIComponent(user[1]);
    if (userId !== "me" && userId !== address) {
      return sendJson(
        response,
        403,
        googleError(403, `Delegation denied for ${address}`, "forbidden", "PERMISSION_DENIED"),
      );
    }
    const rest = user[2];
    const method = request.method;
    if (rest === "/profile" && method === "GET") {
      return sendJson(response, 200, {
        emailAddress: address,
        messagesTotal: messages.size,
        threadsTotal: new Set([...messages.values()].map((message) => message.threadId)).size,
        historyId: String(current),
      });
    }
    if (rest === "/history" && method === "GET") return historyList(response, url);
    if (rest === "/labels" && method === "GET") return sendJson(response, 200, { labels });
    if (rest === "/messages" && method === "GET") return messageList(response, url);
    if (rest === "/messages/send" && method === "POST") return send(request, response);
    const one = /^\/messages\/([^/]+)(\/modify)?$/.exec(rest);
    if (one) {
      const message = messages.get(decodeURIComponent(one[1]));
      if (!message) return sendJson(response, 404, notFound());
      if (!one[2] && method === "GET") return sendJson(response, 200, messageResource(message, url));
      if (one[2] && method === "POST") return modify(request, response, message);
    }
    return sendJson(response, 404, notFound());
  }

  const server = await startReceiver((request, response) => {
    const url = new URL(request.url, "http://fake");
    try {
      if (url.pathname === "/o/oauth2/v2/auth" && request.method === "GET") return authorize(response, url);
      if (url.pathname === "/token" && request.method === "POST") return token(request, response);
      if (url.pathname === "/revoke" && request.method === "POST") return revoke(request, response, url);
      if (url.pathname === "/v1/userinfo") return userinfo(request, response);
      return gmail(request, response, url, url.pathname);
    } catch (failure) {
      sendJson(response, 500, googleError(500, String(failure), "backendError", "INTERNAL"));
    }
  }, { port: options.port });

  return {
    origin: server.origin,
    address,
    requests: server.received,
    deliver(mail = {}) {
      const receivedAt = mail.receivedAt ?? new Date();
      const id = newId();
      return store({
        id,
        threadId: id,
        labelIds: mail.labelIds ?? ["INBOX", "UNREAD"],
        internalDate: receivedAt.getTime(),
        headers: [
          { name: "From", value: mail.from ?? "Bob <bob@example.com>" },
          { name: "To", value: mail.to ?? address },
          { name: "Subject", value: mail.subject ?? "Hello" },
          { name: "Date", value: mail.date ?? receivedAt.toUTCString().replace("GMT", "+0000") },
          { name: "Message-ID", value: `<${id}@example.com>` },
        ],
        text: mail.text ?? "Hi Ada, how are you?",
      });
    },
    message: (id) => messages.get(id),
    sent: () => sentIds.map((id) => messages.get(id)!).filter(Boolean),
    remove(id) {
      const message = messages.get(id);
      if (!message) return;
      messages.delete(id);
      record("messagesDeleted", message);
    },
    createLabel(name) {
      const label: GmailLabel = { id: `Label_${++userLabels}`, name, type: "user" };
      labels.push(label);
      return label;
    },
    historyId: () => String(current),
    expireHistory: () => (historyFloor = current),
    rateLimit: ({ status, retryAfter, header = true, count = 1 }) => (limited = { status, retryAfter, header, count }),
    authorizeRequests,
    tokenRequests,
    close: server.close,
  };
}
