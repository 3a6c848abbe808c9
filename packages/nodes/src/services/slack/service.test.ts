// The slack service's OAuth2 declaration run by oauth2.ts against the fake Slack: the authorize URL,
// oauth.v2.access (HTTP Basic, errors with HTTP 200), and auth.test (a POST) naming the workspace.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { authorizeUrl, exchangeCode, fetchIdentity, oauth2Client, OAuth2Error } from "../../oauth2.ts";
import { services } from "../../registry.ts";
import { type FakeSlack, startFakeSlack } from "../../../../../tests/support/fakes/slack.ts";
import { slack } from "./service.ts";

const TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy";
const TEAM = { id: "T9TK3CUKW", name: "Slack Softball Team", domain: "softball" };
const app = { clientId: "2141029472.691202649728", clientSecret: "3d4ab5a1fa0a4f1a9b7e0a3c1b2d3e4f" };
const oauth2 = slack.oauth2!;

async function fake(t: TestContext): Promise<FakeSlack> {
  const server = await startFakeSlack({
    bots: { [TOKEN]: { team: TEAM, botUserId: "U0KRQLJ9H", botId: "B0KRQLJ9H", botName: "area" } },
    app: { ...app, scopes: oauth2.scopes, codes: { "code-1": TOKEN } },
  });
  t.after(() => server.close());
  return server;
}

const envOf = (server: FakeSlack) => ({
  SLACK_OAUTH_URL: server.origin,
  SLACK_API_URL: server.apiUrl,
  SLACK_CLIENT_ID: app.clientId,
  SLACK_CLIENT_SECRET: app.clientSecret,
});

test("slack is a shipped service", () => {
  assert.ok(services.includes(slack));
});

test("the authorize URL asks for the bot scopes, comma-separated, without PKCE", async () => {
  const env = { SLACK_CLIENT_ID: app.clientId, SLACK_CLIENT_SECRET: app.clientSecret };
  const url = await authorizeUrl(oauth2, env, oauth2Client(oauth2, env)!, {
    redirectUri: "https://area.example/functions/v1/api/connections/slack/callback",
    state: "state-1",
  });
  assert.equal(`${url.origin}${url.pathname}`, "https://slack.com/oauth/v2/authorize");
  assert.equal(url.searchParams.get("client_id"), app.clientId);
  assert.equal(url.searchParams.get("scope"), "chat:write,channels:history,channels:read");
  assert.equal(url.searchParams.get("state"), "state-1");
  assert.equal(url.searchParams.has("code_challenge"), false);
});

test("a code becomes the bot token with its granted scopes; the workspace is the connection's account", async (t) => {
  const server = await fake(t);
  const env = envOf(server);
  const client = oauth2Client(oauth2, env)!;
  const grant = await exchangeCode(oauth2, env, client, { code: "code-1", redirectUri: "https://r.example/cb" }, fetch);
  assert.deepEqual(grant, {
    tokens: { access_token: TOKEN, token_type: "bot" },
    scopes: ["chat:write", "channels:history", "channels:read"],
  });
  const [exchange] = server.requests;
  assert.equal(exchange.url, "/api/oauth.v2.access");
  assert.match(exchange.headers.authorization ?? "", /^Basic /, "client credentials by HTTP Basic, as Slack prefers");
  assert.equal(new URLSearchParams(exchange.body).get("client_secret"), null);

  assert.deepEqual(await fetchIdentity(oauth2, env, grant.tokens.access_token, fetch), {
    id: TEAM.id,
    login: TEAM.name,
    email: null,
  });
  const identity = server.requests[1];
  assert.deepEqual([identity.method, identity.url], ["POST", "/api/auth.test"]);
  assert.equal(identity.headers.authorization, `Bearer ${TOKEN}`);
});

test("Slack's refusals, sent with HTTP 200, fail the exchange and the identity", async (t) => {
  const server = await fake(t);
  const env = envOf(server);
  const client = oauth2Client(oauth2, env)!;
  await assert.rejects(
    exchangeCode(oauth2, env, client, { code: "not-issued", redirectUri: "https://r.example/cb" }, fetch),
    (error) => error instanceof OAuth2Error && error.code === "exchange_failed" && /invalid_code/.test(error.message),
  );
  await assert.rejects(
    exchangeCode(oauth2, env, { ...client, clientSecret: "wrong" }, { code: "code-1", redirectUri: "x" }, fetch),
    (error) => error instanceof OAuth2Error && /bad_client_secret/.test(error.message),
  );
  await assert.rejects(
    fetchIdentity(oauth2, env, "xoxb-unknown", fetch),
    (error) => error instanceof OAuth2Error && error.code === "identity_failed" && /invalid_auth/.test(error.message),
  );
});
