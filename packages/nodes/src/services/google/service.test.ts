// The google service's OAuth2 declaration, run through oauth2.ts against the fake's Google endpoints:
// offline access with the consent prompt (so a refresh token is issued), PKCE S256, the scopes, the
// OpenID Connect identity, the refresh, and the revocation that ends Gmail access.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import {
  authorizeUrl,
  codeVerifier,
  exchangeCode,
  fetchIdentity,
  oauth2Client,
  OAuth2Error,
  refreshTokens,
  revokeToken,
} from "../../oauth2.ts";
import { AuthError } from "../../errors.ts";
import { GMAIL_MODIFY_SCOPE, startFakeGmail } from "../../../../../tests/support/fakes/gmail.ts";
import { pollContext } from "../../../../../tests/support/node_context.ts";
import { newEmail } from "./new_email.ts";
import { google } from "./service.ts";

const definition = google.oauth2!;
const client = { id: "area.apps.googleusercontent.com", secret: "GOCSPX-test" };
const REDIRECT = "https://area.example/functions/v1/api/connections/google/callback";

async function fake(t: TestContext) {
  const server = await startFakeGmail({ client });
  t.after(() => server.close());
  const env = {
    GOOGLE_OAUTH_URL: server.origin,
    GOOGLE_TOKEN_URL: server.origin,
    GOOGLE_USERINFO_URL: server.origin,
    GMAIL_API_URL: server.origin,
    GOOGLE_CLIENT_ID: client.id,
    GOOGLE_CLIENT_SECRET: client.secret,
  };
  return { server, env, oauth: oauth2Client(definition, env)! };
}

test("the declaration points at Google's real endpoints unless the environment says otherwise", async () => {
  assert.equal(oauth2Client(definition, {}), null, "unavailable without GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET");
  const url = await authorizeUrl(definition, {}, { clientId: "id", clientSecret: "s" }, {
    redirectUri: REDIRECT,
    state: "st",
    verifier: codeVerifier(),
  });
  assert.equal(`${url.origin}${url.pathname}`, "https://accounts.google.com/o/oauth2/v2/auth");
  assert.deepEqual(google.oauth2?.scopes, ["openid", "email", GMAIL_MODIFY_SCOPE]);
});

test("consent, code exchange with PKCE, identity, refresh and revocation against Google's endpoints", async (t) => {
  const { server, env, oauth } = await fake(t);
  const verifier = codeVerifier();
  const url = await authorizeUrl(definition, env, oauth, { redirectUri: REDIRECT, state: "state-1", verifier });
  const query = url.searchParams;
  assert.equal(query.get("access_type"), "offline");
  assert.equal(query.get("prompt"), "consent");
  assert.equal(query.get("code_challenge_method"), "S256");
  assert.equal(query.get("scope"), `openid email ${GMAIL_MODIFY_SCOPE}`);

  // The browser at the consent screen, sent back with a code.
  const consent = await fetch(url, { redirect: "manual" });
  assert.equal(consent.status, 302);
  const callback = new URL(consent.headers.get("location")!);
  assert.equal(callback.searchParams.get("state"), "state-1");

  const grant = await exchangeCode(definition, env, oauth, {
    code: callback.searchParams.get("code")!,
    redirectUri: REDIRECT,
    verifier,
  }, fetch);
  assert.ok(grant.tokens.refresh_token, "offline access with the consent prompt issues a refresh token");
  assert.ok(Date.parse(grant.tokens.expires_at!) > Date.now());
  assert.deepEqual(grant.scopes, ["openid", "email", GMAIL_MODIFY_SCOPE]);
  const [exchange] = server.tokenRequests;
  assert.equal(exchange.get("client_secret"), client.secret, "client_secret_post");
  assert.equal(exchange.get("code_verifier"), verifier);

  assert.deepEqual(await fetchIdentity(definition, env, grant.tokens.access_token, fetch), {
    id: "110248495921238986420",
    login: server.address,
    email: server.address,
  });

  // The token works for the nodes, and keeps working after a refresh (which keeps the refresh token).
  const poll = (accessToken: string) =>
    newEmail.trigger.polling!.poll(
      pollContext(google, { credentials: { access_token: accessToken }, env }),
      {},
      undefined,
    );
  await poll(grant.tokens.access_token);
  const refreshed = await refreshTokens(definition, env, oauth, grant.tokens, fetch);
  assert.notEqual(refreshed.tokens.access_token, grant.tokens.access_token);
  assert.equal(refreshed.tokens.refresh_token, grant.tokens.refresh_token);
  await poll(refreshed.tokens.access_token);

  // Revoking the refresh token ends the grant: Gmail refuses its tokens, the refresh is invalid_grant.
  assert.equal(await revokeToken(definition, env, oauth, grant.tokens.refresh_token!, fetch), true);
  const revocation = server.requests.findLast((request) => request.url === "/revoke")!;
  assert.equal(revocation.body, `token=${encodeURIComponent(grant.tokens.refresh_token!)}`);
  await assert.rejects(poll(refreshed.tokens.access_token), AuthError);
  await assert.rejects(
    refreshTokens(definition, env, oauth, grant.tokens, fetch),
    (error) => error instanceof OAuth2Error && error.code === "invalid_grant",
  );
});

test("a wrong PKCE verifier fails the exchange", async (t) => {
  const { env, oauth } = await fake(t);
  const url = await authorizeUrl(definition, env, oauth, {
    redirectUri: REDIRECT,
    state: "s",
    verifier: codeVerifier(),
  });
  const callback = new URL((await fetch(url, { redirect: "manual" })).headers.get("location")!);
  await assert.rejects(
    exchangeCode(definition, env, oauth, {
      code: callback.searchParams.get("code")!,
      redirectUri: REDIRECT,
      verifier: codeVerifier(),
    }, fetch),
    (error) => error instanceof OAuth2Error && error.code === "exchange_failed" && /invalid_grant/.test(error.message),
  );
});
