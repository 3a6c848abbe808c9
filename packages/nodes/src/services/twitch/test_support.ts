// What the twitch tests share: the fake Twitch with its users and tokens, and the contexts the worker
// builds over it. Each fake has its own client id, so the process-wide app token cache never carries a
// token from one test's fake to the next.
import type { TestContext } from "node:test";
import { type FakeTwitch, type FakeTwitchOptions, startFakeTwitch } from "../../../../../tests/support/fakes/twitch.ts";
import { nodeContext, pollContext, reactionContext } from "../../../../../tests/support/node_context.ts";
import { twitch } from "./service.ts";

export const STREAMER = { id: "1337", login: "cool_user", display_name: "Cool_User" };
export const OTHER = { id: "4242", login: "other_one", display_name: "Other_One" };
export const MODERATED = { id: "5555", login: "modded_channel", display_name: "Modded_Channel" };
/** The connected account's token: the streamer's, moderator of MODERATED. */
export const TOKEN = "streamer-user-token";
export const UNSCOPED_TOKEN = "streamer-token-without-scopes";

export async function fakeTwitch(t: TestContext, options: Partial<FakeTwitchOptions> = {}): Promise<FakeTwitch> {
  const server = await startFakeTwitch({
    client: { id: `client-${crypto.randomUUID()}`, secret: "app-secret-0123456789" },
    users: [STREAMER, OTHER, MODERATED],
    tokens: {
      [TOKEN]: { userId: STREAMER.id, scopes: ["moderator:read:followers", "user:write:chat"] },
      [UNSCOPED_TOKEN]: { userId: STREAMER.id, scopes: [] },
    },
    moderators: { [MODERATED.id]: [STREAMER.id] },
    ...options,
  });
  t.after(() => server.close());
  return server;
}

type Options = { token?: string; env?: Record<string, string> };

const credentials = (token: string) => ({ access_token: token, token_type: "bearer" });

export const connected = (server: FakeTwitch, { token = TOKEN, env = {} }: Options = {}) =>
  nodeContext(twitch, { credentials: credentials(token), env: { ...server.env, ...env } });

export const polling = (server: FakeTwitch, { token = TOKEN, env = {} }: Options = {}) =>
  pollContext(twitch, { credentials: credentials(token), env: { ...server.env, ...env } });

export const reacting = (server: FakeTwitch, { token = TOKEN, env = {} }: Options = {}) =>
  reactionContext(twitch, { credentials: credentials(token), env: { ...server.env, ...env } });

/** The query of a recorded request's URL. */
export const query = (url: string) => Object.fromEntries(new URL(url, "http://x").searchParams);
export const pathOf = (url: string) => new URL(url, "http://x").pathname;
