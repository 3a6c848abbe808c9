// The OAuth2 client over a declared `oauth2` block: URL templates, PKCE, the exchange's two client
// authentications and both answer encodings, errors sent with status 200, identity, revocation.
// The whole flow against a real OAuth2 server: tests/connections.test.ts.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { test, type TestContext } from "node:test";
import type { OAuth2Definition } from "./define.ts";
import {
  authorizeUrl,
  codeChallenge,
  codeVerifier,
  exchangeCode,
  fetchIdentity,
  oauth2Client,
  OAuth2Error,
  oauth2Url,
  refreshTokens,
  revokeToken,
} from "./oauth2.ts";
import { enabledServices } from "./registry.ts";
import { type Received, startReceiver } from "../../../tests/support/receiver.ts";

const client = { clientId: "client one", clientSecret: "s3cret:x" };

function provider(overrides: Partial<OAuth2Definition> = {}): OAuth2Definition {
  return {
    baseUrls: { P_URL: "https://provider.example" },
    authorizeUrl: "{P_URL}/oauth/authorize?prompt=consent",
    tokenUrl: "{P_URL}/oauth/token",
    scopes: ["read", "write"],
    pkce: true,
    clientAuth: "client_secret_post",
    clientIdEnv: "P_CLIENT_ID",
    clientSecretEnv: "P_CLIENT_SECRET",
    apiHeaders: { "user-agent": "AREA" },
    identity: { url: "{P_URL}/me", id: "data.id", login: "data.login", email: "data.contact.email" },
    ...overrides,
  };
}

async function server(t: TestContext, answer: (request: Received, response: ServerResponse) => void) {
  const receiver = await startReceiver(answer);
  t.after(() => receiver.close());
  return receiver;
}

test("URL templates take the environment's base URL, else the real provider's", () => {
  const definition = provider();
  assert.equal(oauth2Url(definition, definition.tokenUrl, {}).href, "https://provider.example/oauth/token");
  assert.equal(
    oauth2Url(definition, definition.tokenUrl, { P_URL: "http://127.0.0.1:9/base/" }).href,
    "http://127.0.0.1:9/base/oauth/token",
  );
  assert.equal(oauth2Url(definition, "{P_URL}/apps/{client_id}", {}, "a b").pathname, "/apps/a%20b");
  assert.throws(() => oauth2Url(definition, "{OTHER}/x", {}), /not in baseUrls/);
});

test("a provider is available only with both client id and secret", () => {
  const definition = provider();
  assert.equal(oauth2Client(definition, {}), null);
  assert.equal(oauth2Client(definition, { P_CLIENT_ID: "id", P_CLIENT_SECRET: " " }), null);
  assert.deepEqual(oauth2Client(definition, { P_CLIENT_ID: "id", P_CLIENT_SECRET: "secret" }), {
    clientId: "id",
    clientSecret: "secret",
  });
});

test("PKCE: a 43-character verifier and its S256 challenge (RFC 7636 appendix B)", async () => {
  assert.match(codeVerifier(), /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(codeVerifier(), codeVerifier());
  assert.equal(
    await codeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
});

test("the authorize URL keeps the template's query and adds the flow's parameters", async () => {
  const url = await authorizeUrl(provider({ authorizeParams: { access_type: "offline" } }), {}, client, {
    redirectUri: "https://area.example/callback",
    state: "s",
    verifier: "v".repeat(43),
  });
  const query = Object.fromEntries(url.searchParams);
  assert.deepEqual(query, {
    prompt: "consent",
    response_type: "code",
    client_id: "client one",
    redirect_uri: "https://area.example/callback",
    scope: "read write",
    state: "s",
    code_challenge: createHash("sha256").update("v".repeat(43)).digest("base64url"),
    code_challenge_method: "S256",
    access_type: "offline",
  });
  const plain = await authorizeUrl(provider({ pkce: false, scopeSeparator: "," }), {}, client, {
    redirectUri: "https://area.example/callback",
    state: "s",
  });
  assert.equal(plain.searchParams.get("scope"), "read,write");
  assert.equal(plain.searchParams.has("code_challenge"), false);
});

test("exchange: client_secret_post, a form-encoded answer with comma-separated scopes", async (t) => {
  const token = await server(t, (_, response) => {
    response.writeHead(200, { "content-type": "application/x-www-form-urlencoded" })
      .end("access_token=gho_1&token_type=bearer&scope=read%2Cwrite");
  });
  const grant = await exchangeCode(provider(), { P_URL: token.origin }, client, {
    code: "c",
    redirectUri: "https://area.example/callback",
    verifier: "v".repeat(43),
  }, fetch);
  assert.deepEqual(grant, { tokens: { access_token: "gho_1", token_type: "bearer" }, scopes: ["read", "write"] });
  const [request] = token.received;
  assert.equal(request.headers.accept, "application/json");
  assert.equal(request.headers.authorization, undefined);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(request.body)), {
    grant_type: "authorization_code",
    code: "c",
    redirect_uri: "https://area.example/callback",
    code_verifier: "v".repeat(43),
    client_id: "client one",
    client_secret: "s3cret:x",
  });
});

test("exchange: client_secret_basic (form-encoded parts), expiries, and the requested scopes by default", async (t) => {
  const token = await server(t, (_, response) => {
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({
      access_token: "at",
      token_type: "Bearer",
      refresh_token: "rt",
      expires_in: 3600,
      refresh_token_expires_in: "86400",
    }));
  });
  const before = Date.now();
  const { tokens, scopes } = await exchangeCode(
    provider({ clientAuth: "client_secret_basic" }),
    {
      P_URL: token.origin,
    },
    client,
    { code: "c", redirectUri: "https://area.example/cb", verifier: "v".repeat(43) },
    fetch,
  );
  assert.deepEqual(scopes, ["read", "write"]);
  assert.equal(tokens.refresh_token, "rt");
  const expiresIn = Date.parse(tokens.expires_at!) - before;
  assert.ok(expiresIn >= 3_599_000 && expiresIn <= 3_601_000);
  assert.ok(Date.parse(tokens.refresh_token_expires_at!) - before >= 86_399_000);
  const [request] = token.received;
  assert.equal(
    request.headers.authorization,
    `Basic ${Buffer.from("client+one:s3cret%3Ax").toString("base64")}`,
    "RFC 6749 2.3.1: each part form-encoded",
  );
  assert.equal(new URLSearchParams(request.body).has("client_secret"), false);
});

test("exchange failures: an error with status 200 (GitHub), a 400, a non-JSON answer, no answer", async (t) => {
  const answers = [
    [200, '{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}'],
    [400, '{"error":"invalid_grant"}'],
    [502, "<html>bad gateway</html>"],
    [200, '{"token_type":"bearer"}'],
  ] as const;
  let next = 0;
  const token = await server(t, (_, response) => {
    const [status, body] = answers[next++];
    response.writeHead(status, { "content-type": "application/json" }).end(body);
  });
  const attempt = () =>
    exchangeCode(provider(), { P_URL: token.origin }, client, { code: "c", redirectUri: "https://a/cb" }, fetch);
  const refused = (pattern: RegExp) => (error: unknown) =>
    error instanceof OAuth2Error && error.code === "exchange_failed" && pattern.test(error.message) &&
    !error.message.includes("s3cret");
  await assert.rejects(attempt(), refused(/bad_verification_code \(The code passed/));
  await assert.rejects(attempt(), refused(/invalid_grant/));
  await assert.rejects(attempt(), refused(/status 502/));
  await assert.rejects(attempt(), refused(/status 200/));
  await assert.rejects(
    exchangeCode(
      provider(),
      { P_URL: "http://127.0.0.1:9" },
      client,
      { code: "c", redirectUri: "https://a/cb" },
      fetch,
    ),
    refused(/unreachable/),
  );
});

test("refresh: new tokens, the old refresh token kept when none comes back; invalid_grant is told apart", async (t) => {
  const answers: [number, unknown][] = [
    [200, { access_token: "at2", token_type: "bearer", expires_in: 60 }],
    [200, { access_token: "at3", refresh_token: "rt3" }],
    [400, { error: "invalid_grant", error_description: "Bad refresh token" }],
    [200, { error: "bad_refresh_token", error_description: "The refresh token passed is incorrect or expired." }],
    [503, ""],
  ];
  const token = await server(t, (_, response) => {
    const [status, body] = answers.shift()!;
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  const env = { P_URL: token.origin };
  const previous = { access_token: "at1", token_type: "bearer", refresh_token: "rt1" };
  const first = await refreshTokens(provider(), env, client, previous, fetch);
  assert.equal(first.tokens.access_token, "at2");
  assert.equal(first.tokens.refresh_token, "rt1", "RFC 6749 6: the old refresh token stays valid");
  assert.ok(first.tokens.expires_at);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(token.received[0].body)), {
    grant_type: "refresh_token",
    refresh_token: "rt1",
    client_id: "client one",
    client_secret: "s3cret:x",
  });
  assert.equal((await refreshTokens(provider(), env, client, previous, fetch)).tokens.refresh_token, "rt3");
  await assert.rejects(
    refreshTokens(provider(), env, client, previous, fetch),
    (error) =>
      error instanceof OAuth2Error && error.code === "invalid_grant" && /Bad refresh token/.test(error.message),
  );
  await assert.rejects(
    refreshTokens(provider(), env, client, previous, fetch),
    (error) =>
      error instanceof OAuth2Error && error.code === "invalid_grant" && /bad_refresh_token/.test(error.message),
    "GitHub's name for a dead refresh token, sent with status 200",
  );
  await assert.rejects(
    refreshTokens(provider(), env, client, previous, fetch),
    (error) => error instanceof OAuth2Error && error.code === "refresh_failed" && /status 503/.test(error.message),
  );
  await assert.rejects(
    refreshTokens(provider(), env, client, { access_token: "a", token_type: "bearer" }, fetch),
    (error) => error instanceof OAuth2Error && error.code === "invalid_grant",
  );
  assert.equal(token.received.length, 5, "no request without a refresh token");
});

test("identity: fields by dotted path with the API's headers; a refusal or no id is identity_failed", async (t) => {
  let status = 200;
  const api = await server(t, (_, response) => {
    const body = status === 200 ? { data: { id: 42, login: "ada", contact: { email: null } } } : {
      message: "Bad credentials",
    };
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  const env = { P_URL: api.origin };
  assert.deepEqual(await fetchIdentity(provider(), env, "at", fetch), { id: "42", login: "ada", email: null });
  assert.equal(api.received[0].headers.authorization, "Bearer at");
  assert.equal(api.received[0].headers["user-agent"], "AREA");
  status = 401;
  await assert.rejects(
    fetchIdentity(provider(), env, "at", fetch),
    (error) =>
      error instanceof OAuth2Error && error.code === "identity_failed" &&
      /status 401: \{"message":"Bad credentials"\}/.test(error.message),
  );
  status = 200;
  await assert.rejects(
    fetchIdentity(
      provider({ identity: { url: "{P_URL}/me", id: "data.uuid", login: "data.login" } }),
      env,
      "at",
      fetch,
    ),
    (error) => error instanceof OAuth2Error && error.code === "identity_failed",
  );
});

test("revocation: RFC 7009 form or a JSON body, HTTP Basic; none declared is a no-op; a refusal throws", async (t) => {
  const statuses = [200, 204, 404];
  const api = await server(t, (_, response) => response.writeHead(statuses.shift()!).end());
  const env = { P_URL: api.origin };
  const form = provider({ revoke: { url: "{P_URL}/revoke", method: "POST", format: "form", tokenField: "token" } });
  assert.equal(await revokeToken(form, env, client, "at", fetch), true);
  const json = provider({
    revoke: {
      url: "{P_URL}/applications/{client_id}/token",
      method: "DELETE",
      format: "json",
      tokenField: "access_token",
    },
  });
  assert.equal(await revokeToken(json, env, client, "at", fetch), true);
  await assert.rejects(revokeToken(json, env, client, "at", fetch), /answered 404/);
  assert.equal(await revokeToken(provider(), env, client, "at", fetch), false);
  const [first, second] = api.received;
  assert.deepEqual([first.method, first.url, first.body], ["POST", "/revoke", "token=at"]);
  assert.equal(first.headers["content-type"], "application/x-www-form-urlencoded");
  assert.deepEqual([second.method, second.url, second.body], [
    "DELETE",
    "/applications/client%20one/token",
    '{"access_token":"at"}',
  ]);
  assert.match(second.headers.authorization ?? "", /^Basic /);
});

test("every OAuth2 service of the registry declares its flow, and only those do", () => {
  for (const service of enabledServices({ AREA_ENABLE_BENCH_NODES: "1" })) {
    assert.equal(service.oauth2 !== undefined, service.auth === "oauth2", service.key);
    if (!service.oauth2) continue;
    for (const template of [service.oauth2.authorizeUrl, service.oauth2.tokenUrl, service.oauth2.identity.url]) {
      assert.doesNotThrow(() => oauth2Url(service.oauth2!, template, {}), `${service.key}: ${template}`);
    }
  }
});
