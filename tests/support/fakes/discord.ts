// A local fake of Discord's REST API (Node only), following Discord's documented requests and answers:
// https://discord.com/developers/docs/reference (Authorization: Bot, snowflakes, error messages)
// https://discord.com/developers/docs/resources/message#get-channel-messages
// https://discord.com/developers/docs/resources/message#create-message
// https://discord.com/developers/docs/resources/webhook#execute-webhook
// https://discord.com/developers/docs/resources/user#get-current-user-guilds
// https://discord.com/developers/docs/resources/guild#get-guild-channels
// https://discord.com/developers/docs/topics/rate-limits
// https://discord.com/developers/docs/topics/opcodes-and-status-codes#json
// It serves the API under /api/v10 (and /api, as webhook URLs name it), checks the bot token, answers
// with Discord's bodies and headers (401 `{"message":"401: Unauthorized","code":0}`, 404 Unknown …,
// 400 50035 Invalid Form Body with its `errors` tree, 429 with `retry_after`, Retry-After and
// X-RateLimit-*), and records every request for assertions.
import type { ServerResponse } from "node:http";
import { type Received, sendJson, startReceiver } from "../receiver.ts";

export interface DiscordUser {
  id: string;
  username: string;
  bot?: boolean;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  type: number;
  content: string;
  embeds: unknown[];
  author: DiscordUser & { global_name: string | null };
  timestamp: string;
  nonce?: string;
  webhook_id?: string;
  allowed_mentions?: unknown;
}

export type RecordedRequest = Received;

export interface FakeDiscordOptions {
  /** Port on 127.0.0.1 (0: any free one). */
  port?: number;
  /** Bot tokens Discord knows, and the bot user behind each. */
  bots: Record<string, DiscordUser>;
  /** Channels that exist. */
  channels: string[];
  /** The servers every bot is in, with their channels (which exist too). */
  guilds?: FakeGuild[];
}

export interface FakeGuild {
  id: string;
  name: string;
  /** `type` 0 (GUILD_TEXT) unless given: 2 voice, 4 category, 5 announcement, … */
  channels: { id: string; name: string; type?: number; position?: number }[];
}

export interface FakeWebhook {
  id: string;
  token: string;
  channelId: string;
  /** `https://discord.com/api/webhooks/<id>/<token>` with this fake's origin. */
  url: string;
}

export interface FakeDiscord {
  origin: string;
  /** What DISCORD_API_URL is set to: `<origin>/api/v10`. */
  apiUrl: string;
  requests: RecordedRequest[];
  /** A channel's messages, oldest first. */
  messages(channelId: string): FakeMessage[];
  /** A message written in a channel (by a user unless `author` says otherwise). */
  post(
    channelId: string,
    message?: Partial<Pick<FakeMessage, "content" | "type" | "webhook_id">> & {
      author?: DiscordUser;
    },
  ): FakeMessage;
  /** A channel webhook, as Server Settings → Integrations → Webhooks creates it. */
  createWebhook(channelId: string): FakeWebhook;
  /**
   * The next `count` calls answer 429: Retry-After (whole seconds, rounded up) unless `header` is
   * false, `retry_after` in the body always, `global` as given.
   */
  rateLimit(options: { retryAfter: number; global?: boolean; header?: boolean; count?: number }): void;
  close(): Promise<void>;
}

/** Discord's epoch, 2015-01-01T00:00:00Z, in milliseconds. */
const DISCORD_EPOCH = 1_420_070_400_000n;
const MAX_CONTENT = 2000;
const MAX_EMBEDS = 10;
const MAX_EMBED_TITLE = 256;

type ErrorTree = { [key: string]: ErrorTree | { code: string; message: string }[] };

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const reset = Date.now() / 1000 + 1;
  sendJson(response, status, body, {
    // Discord's JSON names no charset.
    ...(body === undefined ? {} : { "content-type": "application/json" }),
    "x-ratelimit-limit": "5",
    "x-ratelimit-remaining": "4",
    "x-ratelimit-reset": reset.toFixed(3),
    "x-ratelimit-reset-after": "1.000",
    "x-ratelimit-bucket": "fake0bucket",
    ...headers,
  });
}

const fieldError = (code: string, message: string) => ({ _errors: [{ code, message }] });

const invalidFormBody = (errors: ErrorTree) => ({ code: 50035, errors, message: "Invalid Form Body" });

export async function startFakeDiscord(options: FakeDiscordOptions): Promise<FakeDiscord> {
  const channels = new Map(options.channels.map((id) => [id, [] as FakeMessage[]]));
  const guilds = [...options.guilds ?? []].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  for (const guild of guilds) for (const channel of guild.channels) channels.set(channel.id, []);
  const webhooks = new Map<string, FakeWebhook>();
  let limited: { retryAfter: number; global: boolean; header: boolean; count: number } | undefined;
  let origin = "";
  let lastId = 0n;
  let users = 0;

  /** A new snowflake: milliseconds since Discord's epoch in the top 42 bits, always increasing. */
  function snowflake(): string {
    const next = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
    lastId = next > lastId ? next : lastId + 1n;
    return String(lastId);
  }

  function store(channelId: string, fields: Omit<FakeMessage, "id" | "channel_id" | "timestamp">): FakeMessage {
    const message: FakeMessage = {
      id: snowflake(),
      channel_id: channelId,
      timestamp: new Date().toISOString().replace("Z", "000+00:00"),
      ...fields,
    };
    channels.get(channelId)!.push(message);
    return message;
  }

  /** Create Message / Execute Webhook params as Discord checks them; null when valid. */
  function problems(input: Record<string, unknown>, webhook: boolean): { status: number; body: unknown } | null {
    const errors: ErrorTree = {};
    const content = input.content;
    if (content !== undefined && typeof content !== "string") {
      errors.content = fieldError("BASE_TYPE_STRING", "Must be a string.");
    } else if (typeof content === "string" && content.length > MAX_CONTENT) {
      errors.content = fieldError("BASE_TYPE_MAX_LENGTH", `Must be ${MAX_CONTENT} or fewer in length.`);
    }
    const embeds = input.embeds;
    if (embeds !== undefined && !Array.isArray(embeds)) {
      errors.embeds = fieldError("BASE_TYPE_ARRAY", "Must be an array.");
    } else if (Array.isArray(embeds)) {
      if (embeds.length > MAX_EMBEDS) {
        errors.embeds = fieldError("BASE_TYPE_MAX_LENGTH", `Must be ${MAX_EMBEDS} or fewer in length.`);
      } else {
        const embedErrors: ErrorTree = {};
        embeds.forEach((embed, index) => {
          const title = (embed as { title?: unknown })?.title;
          if (typeof title === "string" && title.length > MAX_EMBED_TITLE) {
            embedErrors[index] = {
              title: fieldError("BASE_TYPE_MAX_LENGTH", `Must be ${MAX_EMBED_TITLE} or fewer in length.`),
            };
          }
        });
        if (Object.keys(embedErrors).length) errors.embeds = embedErrors;
      }
    }
    const username = input.username;
    if (webhook && username !== undefined && (typeof username !== "string" || !/^.{1,80}$/s.test(username))) {
      errors.username = fieldError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.");
    }
    if (Object.keys(errors).length) return { status: 400, body: invalidFormBody(errors) };
    const empty = (typeof content !== "string" || content === "") && !(Array.isArray(embeds) && embeds.length);
    if (empty) return { status: 400, body: { message: "Cannot send an empty message", code: 50006 } };
    return null;
  }

  function parseJson(request: RecordedRequest): Record<string, unknown> | { status: number; body: unknown } {
    // "Failing to [provide a valid Content-Type] will result in a 50035 Invalid form body error."
    if (!/^application\/json\b/i.test(request.headers["content-type"] ?? "")) {
      return { status: 400, body: invalidFormBody({}) };
    }
    try {
      const body = JSON.parse(request.body);
      if (body !== null && typeof body === "object" && !Array.isArray(body)) return body;
    } catch { /* below */ }
    return { status: 400, body: { message: "The request body contains invalid JSON.", code: 50109 } };
  }

  const isProblem = (value: unknown): value is { status: number; body: unknown } =>
    typeof (value as { status?: unknown }).status === "number" && "body" in (value as object);

  function handle(request: RecordedRequest, response: ServerResponse) {
    const url = new URL(request.url, "http://fake");
    const path = /^\/api(?:\/v\d+)?(\/.*)$/.exec(url.pathname)?.[1];
    if (!path) return send(response, 404, { message: "404: Not Found", code: 0 });

    if (limited && limited.count > 0) {
      limited.count--;
      const headers: Record<string, string> = {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset-after": limited.retryAfter.toFixed(3),
        "x-ratelimit-scope": limited.global ? "global" : "user",
      };
      if (limited.global) headers["x-ratelimit-global"] = "true";
      if (limited.header) headers["retry-after"] = String(Math.ceil(limited.retryAfter));
      return send(response, 429, {
        message: "You are being rate limited.",
        retry_after: limited.retryAfter,
        global: limited.global,
      }, headers);
    }

    // Execute Webhook: the token in the path is the credential.
    const execute = /^\/webhooks\/(\d+)\/([^/]+)\/?$/.exec(path);
    if (execute && request.method === "POST") {
      const webhook = webhooks.get(execute[1]);
      if (!webhook) return send(response, 404, { message: "Unknown Webhook", code: 10015 });
      if (webhook.token !== execute[2]) return send(response, 401, { message: "Invalid Webhook Token", code: 50027 });
      const input = parseJson(request);
      if (isProblem(input)) return send(response, input.status, input.body);
      const problem = problems(input, true);
      if (problem) return send(response, problem.status, problem.body);
      const threadId = url.searchParams.get("thread_id");
      const channelId = threadId ?? webhook.channelId;
      if (!channels.has(channelId)) return send(response, 400, { message: "Unknown Channel", code: 10003 });
      const message = store(channelId, {
        type: 0,
        content: typeof input.content === "string" ? input.content : "",
        embeds: Array.isArray(input.embeds) ? input.embeds : [],
        author: {
          id: webhook.id,
          username: typeof input.username === "string" ? input.username : "Captain Hook",
          bot: true,
          global_name: null,
        },
        webhook_id: webhook.id,
        allowed_mentions: input.allowed_mentions,
      });
      // "waits for server confirmation of message send before response, and returns the created message body"
      if (url.searchParams.get("wait") === "true") return send(response, 200, message);
      response.writeHead(204).end();
      return;
    }

    const token = /^Bot (\S+)$/.exec(request.headers.authorization ?? "")?.[1];
    const bot = token === undefined ? undefined : options.bots[token];
    if (!bot) return send(response, 401, { message: "401: Unauthorized", code: 0 });

    if (path === "/users/@me" && request.method === "GET") {
      return send(response, 200, { ...bot, bot: true, discriminator: "0", global_name: null, avatar: null });
    }

    // "Returns a list of partial guild objects the current user is a member of", by id, `limit` 1-200 (200).
    if (path === "/users/@me/guilds" && request.method === "GET") {
      const limit = Number(url.searchParams.get("limit") ?? "200");
      if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
        return send(
          response,
          400,
          invalidFormBody({ limit: fieldError("NUMBER_TYPE_MAX", "int value should be less than or equal to 200.") }),
        );
      }
      const after = url.searchParams.get("after");
      const before = url.searchParams.get("before");
      let page = guilds.filter((guild) =>
        (after === null || BigInt(guild.id) > BigInt(after)) && (before === null || BigInt(guild.id) < BigInt(before))
      );
      page = before !== null && after === null ? page.slice(-limit) : page.slice(0, limit);
      return send(
        response,
        200,
        page.map(({ id, name }) => ({ id, name, icon: null, owner: false, permissions: "0", features: [] })),
      );
    }

    // "Returns a list of guild channel objects. Does not include threads."
    const guildChannels = /^\/guilds\/(\d+)\/channels$/.exec(path);
    if (guildChannels && request.method === "GET") {
      const guild = guilds.find((candidate) => candidate.id === guildChannels[1]);
      if (!guild) return send(response, 404, { message: "Unknown Guild", code: 10004 });
      return send(
        response,
        200,
        guild.channels.map(({ id, name, type = 0, position = 0 }) => ({
          id,
          type,
          guild_id: guild.id,
          name,
          position,
          parent_id: null,
          nsfw: false,
          permission_overwrites: [],
        })),
      );
    }

    const list = /^\/channels\/(\d+)\/messages$/.exec(path);
    if (list && request.method === "GET") {
      const stored = channels.get(list[1]);
      if (!stored) return send(response, 404, { message: "Unknown Channel", code: 10003 });
      const limit = Number(url.searchParams.get("limit") ?? "50");
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        const message = limit > 100
          ? "int value should be less than or equal to 100."
          : "int value should be greater than or equal to 1.";
        return send(
          response,
          400,
          invalidFormBody({ limit: fieldError(limit > 100 ? "NUMBER_TYPE_MAX" : "NUMBER_TYPE_MIN", message) }),
        );
      }
      const anchors = ["after", "before", "around"].filter((name) => url.searchParams.has(name));
      if (anchors.length > 1) {
        return send(
          response,
          400,
          invalidFormBody({ _errors: [{ code: "BASE_TYPE_BAD", message: "mutually exclusive" }] }),
        );
      }
      const after = url.searchParams.get("after");
      const before = url.searchParams.get("before");
      let page: FakeMessage[];
      if (after !== null) {
        // The `limit` messages right after the id (the oldest of the newer ones)…
        page = stored.filter((message) => BigInt(message.id) > BigInt(after)).slice(0, limit);
      } else if (before !== null) {
        page = stored.filter((message) => BigInt(message.id) < BigInt(before)).slice(-limit);
      } else {
        page = stored.slice(-limit);
      }
      // …returned "from newest to oldest".
      return send(response, 200, [...page].reverse());
    }

    if (list && request.method === "POST") {
      const channelId = list[1];
      if (!channels.has(channelId)) return send(response, 404, { message: "Unknown Channel", code: 10003 });
      const input = parseJson(request);
      if (isProblem(input)) return send(response, input.status, input.body);
      const problem = problems(input, false);
      if (problem) return send(response, problem.status, problem.body);
      const nonce = typeof input.nonce === "string" || typeof input.nonce === "number"
        ? String(input.nonce)
        : undefined;
      if (nonce !== undefined && nonce.length > 25) {
        return send(
          response,
          400,
          invalidFormBody({ nonce: fieldError("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.") }),
        );
      }
      // enforce_nonce: "If another message was created by the same author with the same nonce, that
      // message will be returned and no new message will be created."
      if (nonce !== undefined && input.enforce_nonce === true) {
        const earlier = channels.get(channelId)!.find((message) =>
          message.nonce === nonce && message.author.id === bot.id
        );
        if (earlier) return send(response, 200, earlier);
      }
      const message = store(channelId, {
        type: 0,
        content: typeof input.content === "string" ? input.content : "",
        embeds: Array.isArray(input.embeds) ? input.embeds : [],
        author: { ...bot, bot: true, global_name: null },
        ...(nonce === undefined ? {} : { nonce }),
        allowed_mentions: input.allowed_mentions,
      });
      return send(response, 200, message);
    }

    return send(response, 404, { message: "404: Not Found", code: 0 });
  }

  const server = await startReceiver((request, response) => {
    try {
      handle(request, response);
    } catch (failure) {
      send(response, 500, { message: String(failure), code: 0 });
    }
  }, { port: options.port });
  origin = server.origin;

  return {
    origin,
    apiUrl: `${origin}/api/v10`,
    requests: server.received,
    messages: (channelId) => [...(channels.get(channelId) ?? [])],
    post(channelId, { content = "hello", type = 0, webhook_id, author } = {}) {
      if (!channels.has(channelId)) throw new Error(`fake discord: no channel ${channelId}`);
      const writer = author ?? { id: String(80351110224678912n + BigInt(++users)), username: `user${users}` };
      return store(channelId, {
        type,
        content,
        embeds: [],
        author: { ...writer, global_name: null },
        ...(webhook_id ? { webhook_id } : {}),
      });
    },
    createWebhook(channelId) {
      const id = snowflake();
      const token = `tok_${id.slice(-6)}-${Math.random().toString(36).slice(2, 12)}`;
      const webhook = { id, token, channelId, url: `${origin}/api/webhooks/${id}/${token}` };
      webhooks.set(id, webhook);
      return webhook;
    },
    rateLimit: (
      { retryAfter, global = false, header = true, count = 1 },
    ) => (limited = { retryAfter, global, header, count }),
    close: server.close,
  };
}
