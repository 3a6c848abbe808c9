// A local fake of Twitch (Node only): the OAuth server (id.twitch.tv) and the Helix API (api.twitch.tv)
// on one origin, following Twitch's documented requests and answers:
// https://dev.twitch.tv/docs/api/guide/ (Client-Id + Bearer, `{error, status, message}`, Ratelimit-* headers)
// https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#client-credentials-grant-flow
// https://dev.twitch.tv/docs/authentication/revoke-tokens/
// https://dev.twitch.tv/docs/api/reference/#get-users
// https://dev.twitch.tv/docs/api/reference/#get-channel-followers
// https://dev.twitch.tv/docs/api/reference/#send-chat-message
// https://dev.twitch.tv/docs/api/reference/#create-eventsub-subscription (and Get, Delete)
// Helix checks Client-Id against the token's client, user scopes, app-versus-user tokens (webhook
// subscriptions take an app token only), and answers 429 with Ratelimit-Reset in epoch seconds. Every
// request is recorded for assertions.
import type { ServerResponse } from "node:http";
import { type Received, sendJson, startReceiver } from "../receiver.ts";

export interface FakeTwitchUser {
  id: string;
  login: string;
  display_name: string;
}

export interface FakeFollower {
  user_id: string;
  user_login: string;
  user_name: string;
  followed_at: string;
}

export interface FakeSubscription {
  id: string;
  status: string;
  type: string;
  version: string;
  condition: Record<string, string>;
  created_at: string;
  transport: { method: string; callback: string; secret: string };
  cost: number;
}

export interface FakeChatMessage {
  message_id: string;
  broadcaster_id: string;
  sender_id: string;
  message: string;
}

export interface FakeTwitchOptions {
  port?: number;
  /** The application: Client-Id and secret. */
  client: { id: string; secret: string };
  users: FakeTwitchUser[];
  /** User access tokens of the application: the user behind each and its scopes. */
  tokens: Record<string, { userId: string; scopes: string[] }>;
  /** Moderators (user ids) by broadcaster id. */
  moderators?: Record<string, string[]>;
  /** Lifetime of issued app access tokens (Twitch: about 60 days). */
  appTokenLifetimeSeconds?: number;
  /** Subscriptions per page of Get EventSub Subscriptions. */
  subscriptionPageSize?: number;
}

export interface FakeTwitch {
  origin: string;
  /** What both TWITCH_OAUTH_URL and TWITCH_API_URL are set to. */
  env: Record<string, string>;
  requests: Received[];
  /** `userId` follows the broadcaster at `at` (default: one second after the previous follow). */
  follow(broadcasterId: string, userId: string, at?: string): FakeFollower;
  /** A new user (`user<n>`) follows the broadcaster. */
  newFollower(broadcasterId: string, at?: string): FakeFollower;
  subscriptions: FakeSubscription[];
  chat: FakeChatMessage[];
  /** App access tokens issued by the client credentials grant, oldest first. */
  appTokens: string[];
  /** Twitch invalidates every app token issued so far (a secret rotated, say). */
  invalidateAppTokens(): void;
  /** User tokens revoked through /oauth2/revoke. */
  revoked: string[];
  /** Chat messages to this broadcaster are dropped with this reason. */
  dropChat(broadcasterId: string, reason: { code: string; message: string }): void;
  /** The next `count` Helix calls answer 429, the bucket refilling `resetInSeconds` from now. */
  rateLimit(options: { resetInSeconds: number; count?: number }): void;
  /** The next `count` Helix calls to `path` answer 503 Service Unavailable. */
  unavailable(path: string, count?: number): void;
  close(): Promise<void>;
}

const FIRST_FOLLOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const MAX_CHAT_LENGTH = 500;

/** Twitch's RFC 3339 with second resolution: `2026-01-01T12:00:00Z`. */
const seconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

const cursorOf = (offset: number) => Buffer.from(JSON.stringify({ a: { Offset: offset } })).toString("base64url");

function offsetOf(cursor: string | null): number | null {
  if (cursor === null) return 0;
  try {
    const offset = JSON.parse(Buffer.from(cursor, "base64url").toString()).a.Offset;
    return Number.isInteger(offset) && offset >= 0 ? offset : null;
  } catch {
    return null;
  }
}

const helixError = (status: number, error: string, message: string) => ({ error, status, message });

export async function startFakeTwitch(options: FakeTwitchOptions): Promise<FakeTwitch> {
  const users = new Map(options.users.map((user) => [user.id, user]));
  const followers = new Map<string, FakeFollower[]>(); // newest first
  const subscriptions: FakeSubscription[] = [];
  const chat: FakeChatMessage[] = [];
  const appTokens: string[] = [];
  const validAppTokens = new Map<string, number>(); // token → expiry (ms)
  const revoked: string[] = [];
  const drops = new Map<string, { code: string; message: string }>();
  let limited: { resetInSeconds: number; count: number } | undefined;
  const unavailable = new Map<string, number>();
  let lastFollow = FIRST_FOLLOW - 1000;
  let counter = 0;

  function bucketHeaders(remaining: number, resetInSeconds = 60): Record<string, string> {
    return {
      "ratelimit-limit": "800",
      "ratelimit-remaining": String(remaining),
      "ratelimit-reset": String(Math.floor(Date.now() / 1000) + resetInSeconds),
    };
  }

  const send = (response: ServerResponse, status: number, body: unknown) =>
    sendJson(response, status, body, bucketHeaders(799));

  function form(request: Received): URLSearchParams | null {
    const type = request.headers["content-type"] ?? "";
    return type.startsWith("application/x-www-form-urlencoded") ? new URLSearchParams(request.body) : null;
  }

  function oauth(path: string, request: Received, response: ServerResponse) {
    const fields = form(request) ?? new URLSearchParams();
    if (path === "/oauth2/token" && request.method === "POST") {
      if (fields.get("client_id") !== options.client.id) {
        return sendJson(response, 400, { status: 400, message: "invalid client" });
      }
      if (fields.get("client_secret") !== options.client.secret) {
        return sendJson(response, 403, { status: 403, message: "invalid client secret" });
      }
      if (fields.get("grant_type") !== "client_credentials") {
        return sendJson(response, 400, { status: 400, message: "unsupported grant type" });
      }
      const lifetime = options.appTokenLifetimeSeconds ?? 5_184_000;
      const token = `app${++counter}${"x".repeat(20)}`;
      appTokens.push(token);
      validAppTokens.set(token, Date.now() + lifetime * 1000);
      return sendJson(response, 200, { access_token: token, expires_in: lifetime, token_type: "bearer" });
    }
    if (path === "/oauth2/revoke" && request.method === "POST") {
      if (fields.get("client_id") !== options.client.id) {
        return sendJson(response, 404, { status: 404, message: "client does not exist" });
      }
      const token = fields.get("token") ?? "";
      if (!(token in options.tokens) || revoked.includes(token)) {
        return sendJson(response, 400, { status: 400, message: "Invalid token" });
      }
      revoked.push(token);
      response.writeHead(200).end();
      return;
    }
    sendJson(response, 404, { status: 404, message: "Not Found" });
  }

  type Caller = { kind: "user"; userId: string; scopes: string[] } | { kind: "app" };

  /** Client-Id and Bearer as Helix checks them; null after answering 401. */
  function authenticate(request: Received, response: ServerResponse): Caller | null {
    const clientId = request.headers["client-id"];
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? "")?.[1];
    const refuse = (message: string) => {
      send(response, 401, helixError(401, "Unauthorized", message));
      return null;
    };
    if (!token) return refuse("OAuth token is missing");
    if (!clientId) return refuse("Client ID is missing");
    const user = options.tokens[token];
    const appExpiry = validAppTokens.get(token);
    if (user && !revoked.includes(token)) {
      if (clientId !== options.client.id) return refuse("Client ID and OAuth token do not match");
      return { kind: "user", userId: user.userId, scopes: user.scopes };
    }
    if (appExpiry !== undefined && appExpiry > Date.now()) {
      if (clientId !== options.client.id) return refuse("Client ID and OAuth token do not match");
      return { kind: "app" };
    }
    return refuse("Invalid OAuth token");
  }

  function json(request: Received): Record<string, unknown> | null {
    if (!/^application\/json\b/.test(request.headers["content-type"] ?? "")) return null;
    try {
      const body = JSON.parse(request.body);
      return body !== null && typeof body === "object" && !Array.isArray(body) ? body : null;
    } catch {
      return null;
    }
  }

  function helix(path: string, url: URL, request: Received, response: ServerResponse) {
    if (limited && limited.count > 0) {
      limited.count--;
      return sendJson(
        response,
        429,
        helixError(429, "Too Many Requests", "Too Many Requests"),
        bucketHeaders(0, limited.resetInSeconds),
      );
    }
    if ((unavailable.get(path) ?? 0) > 0) {
      unavailable.set(path, unavailable.get(path)! - 1);
      return send(response, 503, helixError(503, "Service Unavailable", "Service Unavailable"));
    }
    const caller = authenticate(request, response);
    if (!caller) return;
    const badRequest = (message: string) => send(response, 400, helixError(400, "Bad Request", message));
    const query = url.searchParams;

    if (path === "/helix/users" && request.method === "GET") {
      const logins = query.getAll("login").map((login) => login.toLowerCase());
      const ids = query.getAll("id");
      if (logins.length === 0 && ids.length === 0) {
        if (caller.kind === "app") return badRequest("Must provide an ID, Login or OAuth Token");
        return send(response, 200, { data: [users.get(caller.userId)] });
      }
      const found = [...users.values()].filter((user) => logins.includes(user.login) || ids.includes(user.id));
      return send(response, 200, { data: found.map((user) => ({ ...user, type: "", broadcaster_type: "" })) });
    }

    if (path === "/helix/channels/followers" && request.method === "GET") {
      if (caller.kind !== "user" || !caller.scopes.includes("moderator:read:followers")) {
        return send(response, 401, helixError(401, "Unauthorized", "Missing scope: moderator:read:followers"));
      }
      const broadcasterId = query.get("broadcaster_id");
      if (!broadcasterId) return badRequest('Missing required parameter "broadcaster_id"');
      const first = Number(query.get("first") ?? "20");
      if (!Number.isInteger(first) || first < 1 || first > 100) {
        return badRequest('The parameter "first" was malformed: the value must be between 1 and 100');
      }
      const offset = offsetOf(query.get("after"));
      if (offset === null) return badRequest('The parameter "after" was malformed');
      const all = followers.get(broadcasterId) ?? [];
      // "If the user isn't the broadcaster or a moderator, the response contains only the total."
      const allowed = caller.userId === broadcasterId ||
        (options.moderators?.[broadcasterId] ?? []).includes(caller.userId);
      if (!allowed) return send(response, 200, { total: all.length, data: [], pagination: {} });
      const page = all.slice(offset, offset + first);
      const more = offset + first < all.length;
      return send(response, 200, {
        total: all.length,
        data: page,
        pagination: more ? { cursor: cursorOf(offset + first) } : {},
      });
    }

    if (path === "/helix/chat/messages" && request.method === "POST") {
      if (caller.kind === "user" && !caller.scopes.includes("user:write:chat")) {
        return send(response, 401, helixError(401, "Unauthorized", "Missing scope: user:write:chat"));
      }
      const body = json(request);
      if (!body) return badRequest("The request body is not valid JSON");
      for (const name of ["broadcaster_id", "sender_id", "message"]) {
        if (typeof body[name] !== "string" || body[name] === "") {
          return badRequest(`Missing required parameter "${name}"`);
        }
      }
      const { broadcaster_id: broadcasterId, sender_id: senderId, message } = body as Record<string, string>;
      if (caller.kind === "user" && senderId !== caller.userId) {
        return send(
          response,
          401,
          helixError(401, "Unauthorized", "The sender must be the user in the user access token"),
        );
      }
      if (!users.has(broadcasterId)) return badRequest("The broadcaster_id is not valid");
      if (message.length > MAX_CHAT_LENGTH) {
        return send(response, 422, helixError(422, "Unprocessable Entity", "The message is too large"));
      }
      const drop = drops.get(broadcasterId);
      if (drop) return send(response, 200, { data: [{ message_id: "", is_sent: false, drop_reason: drop }] });
      const sent = { message_id: `msg-${++counter}`, broadcaster_id: broadcasterId, sender_id: senderId, message };
      chat.push(sent);
      return send(response, 200, { data: [{ message_id: sent.message_id, is_sent: true }] });
    }

    if (path === "/helix/eventsub/subscriptions") {
      if (caller.kind !== "app") {
        // Webhook subscriptions need an app access token; a user token lists only WebSocket ones.
        if (request.method === "GET") return send(response, 200, { data: [], total: 0, pagination: {} });
        return badRequest("invalid transport and auth combination");
      }
      if (request.method === "POST") return createSubscription(request, response);
      if (request.method === "GET") {
        const type = query.get("type");
        const matching = subscriptions.filter((subscription) => type === null || subscription.type === type);
        const offset = offsetOf(query.get("after"));
        if (offset === null) return badRequest('The parameter "after" was malformed');
        const size = options.subscriptionPageSize ?? 100;
        const page = matching.slice(offset, offset + size).map((
          { transport: { secret: _, ...transport }, ...rest },
        ) => ({
          ...rest,
          transport,
        }));
        return send(response, 200, {
          data: page,
          total: subscriptions.length,
          total_cost: subscriptions.reduce((sum, subscription) => sum + subscription.cost, 0),
          max_total_cost: 10_000,
          pagination: offset + size < matching.length ? { cursor: cursorOf(offset + size) } : {},
        });
      }
      if (request.method === "DELETE") {
        const id = query.get("id");
        if (!id) return badRequest('Missing required parameter "id"');
        const index = subscriptions.findIndex((subscription) => subscription.id === id);
        if (index === -1) return send(response, 404, helixError(404, "Not Found", "subscription not found"));
        subscriptions.splice(index, 1);
        response.writeHead(204, bucketHeaders(799)).end();
        return;
      }
    }

    send(response, 404, helixError(404, "Not Found", "Not Found"));
  }

  function createSubscription(request: Received, response: ServerResponse) {
    const badRequest = (message: string) => send(response, 400, helixError(400, "Bad Request", message));
    const body = json(request);
    if (!body) return badRequest("The request body is not valid JSON");
    const { type, version } = body;
    const condition = body.condition as Record<string, unknown> | undefined;
    const transport = body.transport as Record<string, unknown> | undefined;
    if (type !== "stream.online" && type !== "stream.offline") return badRequest("unsupported subscription type");
    if (version !== "1") return badRequest("unsupported subscription version");
    const broadcasterId = condition?.broadcaster_user_id;
    if (typeof broadcasterId !== "string" || !users.has(broadcasterId)) return badRequest("invalid condition");
    if (transport?.method !== "webhook") return badRequest("invalid transport method");
    const callback = transport.callback;
    if (typeof callback !== "string" || !callback.startsWith("https://")) {
      return badRequest("invalid transport: callback must use https");
    }
    const secret = transport.secret;
    if (typeof secret !== "string" || !/^[\x20-\x7e]{10,100}$/.test(secret)) {
      return badRequest("invalid transport: secret must be 10 to 100 ASCII characters");
    }
    const duplicate = subscriptions.some((subscription) =>
      subscription.type === type && subscription.condition.broadcaster_user_id === broadcasterId &&
      subscription.transport.callback === callback
    );
    if (duplicate) return send(response, 409, helixError(409, "Conflict", "subscription already exists"));
    const created: FakeSubscription = {
      id: `f1c2a387-161a-49f9-a165-${String(++counter).padStart(12, "0")}`,
      status: "webhook_callback_verification_pending",
      type,
      version,
      condition: { broadcaster_user_id: broadcasterId },
      created_at: new Date().toISOString(),
      transport: { method: "webhook", callback, secret },
      cost: 1,
    };
    subscriptions.push(created);
    const { transport: { secret: _, ...shown }, ...rest } = created;
    send(response, 202, {
      data: [{ ...rest, transport: shown }],
      total: subscriptions.length,
      total_cost: subscriptions.length,
      max_total_cost: 10_000,
    });
  }

  const server = await startReceiver((request, response) => {
    try {
      const url = new URL(request.url, "http://fake");
      if (url.pathname.startsWith("/oauth2/")) return oauth(url.pathname, request, response);
      if (url.pathname.startsWith("/helix/")) return helix(url.pathname, url, request, response);
      send(response, 404, helixError(404, "Not Found", "Not Found"));
    } catch (failure) {
      send(response, 500, helixError(500, "Internal Server Error", String(failure)));
    }
  }, { port: options.port });

  function follow(broadcasterId: string, userId: string, at?: string): FakeFollower {
    const user = users.get(userId);
    if (!user) throw new Error(`fake twitch: no user ${userId}`);
    lastFollow = at === undefined ? lastFollow + 1000 : Date.parse(at);
    const follower = {
      user_id: user.id,
      user_login: user.login,
      user_name: user.display_name,
      followed_at: seconds(lastFollow),
    };
    const list = (followers.get(broadcasterId) ?? []).filter((existing) => existing.user_id !== userId);
    list.push(follower);
    // "In descending order by followed_at": newest first; same-second follows in no promised order.
    list.sort((a, b) => Date.parse(b.followed_at) - Date.parse(a.followed_at));
    followers.set(broadcasterId, list);
    return follower;
  }

  return {
    origin: server.origin,
    env: {
      TWITCH_OAUTH_URL: server.origin,
      TWITCH_API_URL: server.origin,
      TWITCH_CLIENT_ID: options.client.id,
      TWITCH_CLIENT_SECRET: options.client.secret,
    },
    requests: server.received,
    follow,
    newFollower(broadcasterId, at) {
      const id = String(900_000 + ++counter);
      users.set(id, { id, login: `user${id}`, display_name: `User${id}` });
      return follow(broadcasterId, id, at);
    },
    subscriptions,
    chat,
    appTokens,
    invalidateAppTokens: () => validAppTokens.clear(),
    revoked,
    dropChat: (broadcasterId, reason) => drops.set(broadcasterId, reason),
    rateLimit: ({ resetInSeconds, count = 1 }) => (limited = { resetInSeconds, count }),
    unavailable: (path, count = 1) => unavailable.set(path, count),
    close: server.close,
  };
}
