// The twitch OAuth2 declaration through oauth2.ts against the fake Twitch: the authorize URL, the
// identity call (which Helix refuses without the Client-Id header), and revocation (client_id and
// token in a form).
import assert from "node:assert/strict";
import { test } from "node:test";
import { authorizeUrl, fetchIdentity, oauth2Client, revokeToken } from "../../oauth2.ts";
import { services } from "../../registry.ts";
import { twitch } from "./service.ts";
import { fakeTwitch, STREAMER, TOKEN } from "./test_support.ts";

const oauth2 = twitch.oauth2!;

test("the authorize URL asks for the followers and chat scopes, space-separated, without PKCE", async () => {
  const env = { TWITCH_CLIENT_ID: "abc123", TWITCH_CLIENT_SECRET: "shh" };
  const url = await authorizeUrl(oauth2, env, oauth2Client(oauth2, env)!, {
    redirectUri: "https://area.example/functions/v1/api/connections/twitch/callback",
    state: "state-1",
  });
  assert.equal(`${url.origin}${url.pathname}`, "https://id.twitch.tv/oauth2/authorize");
  assert.equal(url.searchParams.get("scope"), "moderator:read:followers user:write:chat");
  assert.equal(url.searchParams.get("response_type"), "code");
  assert.equal(url.searchParams.get("client_id"), "abc123");
  assert.equal(url.searchParams.has("code_challenge"), false);
  assert.ok(services.includes(twitch), "twitch is shipped");
});

test("identity is the token's user from /helix/users, asked with the application's Client-Id", async (t) => {
  const server = await fakeTwitch(t);
  const identity = await fetchIdentity(oauth2, server.env, TOKEN, fetch);
  assert.deepEqual(identity, { id: STREAMER.id, login: STREAMER.login, email: null });
  const [request] = server.requests;
  assert.equal(request.url, "/helix/users");
  assert.equal(request.headers["client-id"], server.env.TWITCH_CLIENT_ID);
  assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);

  // Without the client id Helix refuses: the header is what makes identity work.
  await assert.rejects(fetchIdentity(oauth2, { ...server.env, TWITCH_CLIENT_ID: "" }, TOKEN, fetch), /status 401/);
});

test("revocation posts client_id and token as a form", async (t) => {
  const server = await fakeTwitch(t);
  const client = oauth2Client(oauth2, server.env)!;
  assert.equal(await revokeToken(oauth2, server.env, client, TOKEN, fetch), true);
  const [request] = server.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.url, "/oauth2/revoke");
  assert.match(request.headers["content-type"]!, /^application\/x-www-form-urlencoded/);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(request.body)), {
    token: TOKEN,
    client_id: server.env.TWITCH_CLIENT_ID,
  });
  assert.deepEqual(server.revoked, [TOKEN]);
  await assert.rejects(fetchIdentity(oauth2, server.env, TOKEN, fetch), /status 401/, "a revoked token is refused");
});
