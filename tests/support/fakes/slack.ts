// A local fake of Slack's Web API (Node only), following Slack's documented requests and answers:
// https://docs.slack.dev/apis/web-api/ (POST https://slack.com/api/<method>, JSON or form arguments,
//   the token as `Authorization: Bearer` (required with a JSON body) or a `token` form field,
//   every answer `{"ok": true, …}` or `{"ok": false, "error": "<code>"}` with HTTP 200)
// https://docs.slack.dev/apis/web-api/rate-limits (429, Retry-After, `ratelimited`)
// https://docs.slack.dev/reference/methods/chat.postMessage
// https://docs.slack.dev/reference/methods/auth.test
// https://docs.slack.dev/reference/methods/oauth.v2.access
// https://docs.slack.dev/reference/methods/conversations.list (GET, cursor pagination)
// It serves the API under /api, checks the token, answers with Slack's bodies (not_authed, invalid_auth,
// token_revoked, channel_not_found, not_in_channel, is_archived, no_text, msg_too_long, invalid_code, …),
// warns `missing_charset` on a JSON body without one, and records every request for assertions.
import type { ServerResponse } from "node:http";
import { type Received, sendJson, startReceiver } from "../receiver.ts";

export type RecordedRequest = Received;

/** An installation of the app in a workspace: what its bot token stands for. */
export interface FakeInstallation {
  team: { id: string; name: string; domain: string };
  /** The bot user (U…) and bot (B…) ids. */
  botUserId: string;
  botId: string;
  botName: string;
}

export interface FakeChannel {
  id: string;
  name: string;
  /** Whether the app's bot was added to it (chat.postMessage answers not_in_channel otherwise). */
  botIsMember: boolean;
  archived?: boolean;
}

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  text: string;
  thread_ts?: string;
  user: string;
  bot_id: string;
}

export interface FakeSlackOptions {
  /** Port on 127.0.0.1 (0: any free one). */
  port?: number;
  /** Bot tokens Slack knows (xoxb-…), and the installation behind each. */
  bots: Record<string, FakeInstallation>;
  channels?: FakeChannel[];
  /** The OAuth app: its credentials, the scopes an install grants, and each authorization code's token. */
  app?: { clientId: string; clientSecret: string; scopes: string[]; codes: Record<string, string> };
}

export interface FakeSlack {
  origin: string;
  /** The Web API base: `<origin>/api`, what SLACK_API_URL names. */
  apiUrl: string;
  requests: RecordedRequest[];
  /** Messages posted to a channel (by id), oldest first. */
  messages(channel: string): FakeSlackMessage[];
  /** Tokens revoked (an uninstall): token_revoked from then on. */
  revoke(token: string): void;
  /** The next `count` calls answer HTTP 429 `ratelimited`, with Retry-After when `retryAfter` is given. */
  rateLimit(options: { retryAfter?: number; count?: number }): void;
  /** The next `count` calls fail with `error` and HTTP 200, as Slack's transient errors come. */
  failWith(error: string, count?: number): void;
  close(): Promise<void>;
}

/** chat.postMessage: "truncates text after 40,000 characters" and refuses beyond with msg_too_long. */
const MAX_TEXT_LENGTH = 40_000;

const refuse = (response: ServerResponse, error: string, extra: Record<string, unknown> = {}) =>
  sendJson(response, 200, { ok: false, error, ...extra });

/**
 * The arguments of a call: the query string of a GET, else a JSON object or form fields (as Slack
 * reads them); null when unreadable.
 */
function readArguments(request: RecordedRequest): Record<string, unknown> | null {
  if (request.method === "GET") return Object.fromEntries(new URL(request.url, "http://fake").searchParams);
  const type = request.headers["content-type"] ?? "";
  if (type.startsWith("application/json")) {
    try {
      const value = JSON.parse(request.body || "{}");
      return value !== null && typeof value === "object" && !Array.isArray(value) ? value : null;
    } catch {
      return null;
    }
  }
  return Object.fromEntries(new URLSearchParams(request.body));
}

export async function startFakeSlack(options: FakeSlackOptions): Promise<FakeSlack> {
  const channels = options.channels ?? [];
  const posted: FakeSlackMessage[] = [];
  const revoked = new Set<string>();
  const usedCodes = new Set<string>();
  let limited: { retryAfter?: number; count: number } | undefined;
  let failing: { error: string; count: number } | undefined;
  let sequence = 0;

  /** The installation behind the call's token, or the error Slack answers. */
  function authenticate(request: RecordedRequest, args: Record<string, unknown>): FakeInstallation | string {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    // With a JSON body the token must come as a header: a `token` field there is not read.
    const json = (request.headers["content-type"] ?? "").startsWith("application/json");
    const token = bearer ?? (json ? undefined : args.token);
    if (typeof token !== "string" || token === "") return "not_authed";
    if (revoked.has(token)) return "token_revoked";
    return options.bots[token] ?? "invalid_auth";
  }

  function exchange(request: RecordedRequest, response: ServerResponse, args: Record<string, unknown>) {
    const app = options.app;
    if (!app) return refuse(response, "invalid_client_id");
    // HTTP Basic (preferred by Slack) or client_id and client_secret fields.
    const [scheme, encoded] = (request.headers.authorization ?? "").split(" ");
    const [basicId, basicSecret] = scheme === "Basic"
      ? Buffer.from(encoded ?? "", "base64").toString().split(":").map(decodeURIComponent)
      : [];
    const clientId = basicId ?? args.client_id;
    const clientSecret = basicSecret ?? args.client_secret;
    if (clientId !== app.clientId) return refuse(response, "invalid_client_id");
    if (clientSecret !== app.clientSecret) return refuse(response, "bad_client_secret");
    const code = typeof args.code === "string" ? args.code : "";
    const token = app.codes[code];
    if (!token || usedCodes.has(code)) return refuse(response, "invalid_code");
    usedCodes.add(code);
    const installation = options.bots[token];
    return sendJson(response, 200, {
      ok: true,
      access_token: token,
      token_type: "bot",
      scope: app.scopes.join(","),
      bot_user_id: installation.botUserId,
      app_id: "A0FAKEAPP01",
      team: { id: installation.team.id, name: installation.team.name },
      enterprise: null,
      is_enterprise_install: false,
      authed_user: { id: "U0INSTALLER" },
    });
  }

  function postMessage(
    response: ServerResponse,
    installation: FakeInstallation,
    args: Record<string, unknown>,
    warnings: Record<string, unknown>,
  ) {
    const wanted = typeof args.channel === "string" ? args.channel.replace(/^#/, "") : "";
    const channel = channels.find((candidate) => candidate.id === wanted || candidate.name === wanted);
    if (!channel) return refuse(response, "channel_not_found");
    if (channel.archived) return refuse(response, "is_archived");
    if (!channel.botIsMember) return refuse(response, "not_in_channel");
    const text = typeof args.text === "string" ? args.text : "";
    if (text.trim() === "" && args.blocks === undefined && args.attachments === undefined) {
      return refuse(response, "no_text");
    }
    if (text.length > MAX_TEXT_LENGTH) return refuse(response, "msg_too_long");
    const ts = `${Math.floor(Date.now() / 1000)}.${String(++sequence).padStart(6, "0")}`;
    const message: FakeSlackMessage = {
      channel: channel.id,
      ts,
      text,
      user: installation.botUserId,
      bot_id: installation.botId,
    };
    if (typeof args.thread_ts === "string") message.thread_ts = args.thread_ts;
    posted.push(message);
    return sendJson(response, 200, {
      ok: true,
      channel: channel.id,
      ts,
      message: {
        type: "message",
        text,
        user: message.user,
        bot_id: message.bot_id,
        app_id: "A0FAKEAPP01",
        team: installation.team.id,
        ts,
        ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
      },
      ...warnings,
    });
  }

  /** Public channels by name, `limit` at a time (default 100, at most 1000), with an opaque cursor. */
  function listChannels(response: ServerResponse, args: Record<string, unknown>) {
    const limit = Math.min(Number(args.limit ?? 100) || 100, 1000);
    let offset = 0;
    if (typeof args.cursor === "string" && args.cursor !== "") {
      const decoded = /^offset:(\d+)$/.exec(Buffer.from(args.cursor, "base64").toString());
      if (!decoded) return refuse(response, "invalid_cursor");
      offset = Number(decoded[1]);
    }
    const listed = channels
      .filter((channel) => !(args.exclude_archived === "true" && channel.archived))
      .sort((a, b) => a.name.localeCompare(b.name));
    const page = listed.slice(offset, offset + limit);
    const next = offset + limit < listed.length ? Buffer.from(`offset:${offset + limit}`).toString("base64") : "";
    return sendJson(response, 200, {
      ok: true,
      channels: page.map((channel) => ({
        id: channel.id,
        name: channel.name,
        is_channel: true,
        is_private: false,
        is_archived: channel.archived ?? false,
        is_member: channel.botIsMember,
      })),
      response_metadata: { next_cursor: next },
    });
  }

  function handle(request: RecordedRequest, response: ServerResponse) {
    const method = /^\/api\/([a-zA-Z0-9.]+)$/.exec(new URL(request.url, "http://fake").pathname)?.[1];
    if (request.method !== "POST" && request.method !== "GET") return refuse(response, "method_not_supported");
    if (!method || !["auth.test", "chat.postMessage", "conversations.list", "oauth.v2.access"].includes(method)) {
      return sendJson(response, 404, { ok: false, error: "unknown_method", req_method: method ?? "" });
    }
    if (limited && limited.count > 0) {
      limited.count--;
      const headers: Record<string, string> = limited.retryAfter === undefined
        ? {}
        : { "retry-after": String(limited.retryAfter) };
      return sendJson(response, 429, { ok: false, error: "ratelimited" }, headers);
    }
    if (failing && failing.count > 0) {
      failing.count--;
      return refuse(response, failing.error);
    }
    const args = readArguments(request);
    if (!args) return refuse(response, "invalid_json");
    if (method === "oauth.v2.access") return exchange(request, response, args);

    const installation = authenticate(request, args);
    if (typeof installation === "string") return refuse(response, installation);
    if (method === "auth.test") {
      return sendJson(response, 200, {
        ok: true,
        url: `https://${installation.team.domain}.slack.com/`,
        team: installation.team.name,
        user: installation.botName,
        team_id: installation.team.id,
        user_id: installation.botUserId,
        bot_id: installation.botId,
        is_enterprise_install: false,
      });
    }
    if (method === "conversations.list") return listChannels(response, args);
    if (request.method !== "POST") return refuse(response, "method_not_supported");
    // A JSON body without its charset is still read, and the answer says so.
    const type = request.headers["content-type"] ?? "";
    const warnings = type.startsWith("application/json") && !/charset=utf-8/i.test(type)
      ? { warning: "missing_charset", response_metadata: { warnings: ["missing_charset"] } }
      : {};
    return postMessage(response, installation, args, warnings);
  }

  const server = await startReceiver((request, response) => {
    try {
      handle(request, response);
    } catch (failure) {
      sendJson(response, 500, { ok: false, error: "fatal_error", detail: String(failure) });
    }
  }, { port: options.port });
  return {
    origin: server.origin,
    apiUrl: `${server.origin}/api`,
    requests: server.received,
    messages: (channel) => posted.filter((message) => message.channel === channel),
    revoke: (token) => revoked.add(token),
    rateLimit: ({ retryAfter, count = 1 }) => (limited = { retryAfter, count }),
    failWith: (error, count = 1) => (failing = { error, count }),
    close: server.close,
  };
}
