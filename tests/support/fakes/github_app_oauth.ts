// GitHub's token endpoint for a GitHub App whose user access tokens expire, for tests of the worker's
// token refresh: oauth2-mock-server (a real OAuth2 server) at GitHub's path, answering refresh_token
// grants as GitHub documents them:
// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
// - the request: POST /login/oauth/access_token with client_id, client_secret, grant_type=refresh_token
//   and refresh_token in the form;
// - the answer: {access_token, expires_in: 28800, refresh_token, refresh_token_expires_in: 15811200,
//   scope: "", token_type: "bearer"};
// - "Once you use a refresh token, that refresh token and the old user access token will no longer
//   work": both are rotated, and a dead refresh token gets `bad_refresh_token` with status 200.
// The REST fake (github.ts) asks tokenUser() which account an access token belongs to.
import { randomBytes } from "node:crypto";
import { Events, OAuth2Server } from "oauth2-mock-server";
import type { GithubUser } from "./github.ts";

export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

export interface RefreshFailure {
  status: number;
  /** The JSON body; none by default (a bare 503, say). */
  body?: Record<string, unknown>;
}

export interface FakeGithubAppOAuth {
  origin: string;
  server: OAuth2Server;
  /** The form bodies of the refresh requests received, in order. */
  refreshRequests: Record<string, unknown>[];
  /** New tokens for `account`, as a code exchange would give them: what a connection starts with. */
  grant(account: GithubUser): TokenPair;
  /** The account behind a live access token, or null (unknown, expired or replaced by a refresh). */
  tokenUser(token: string): GithubUser | null;
  /** Ends an access token's life now, whatever expiry the client stored. */
  expire(accessToken: string): void;
  /** The next refresh request gets this answer instead (the tokens stay as they were). */
  failNextRefresh(failure: RefreshFailure): void;
  close(): Promise<void>;
}

const ACCESS_TOKEN_SECONDS = 28_800;
const REFRESH_TOKEN_SECONDS = 15_811_200;

const token = (prefix: string) => `${prefix}_${randomBytes(18).toString("base64url")}`;

export async function startFakeGithubAppOAuth(options: {
  port?: number;
  client: { id: string; secret: string };
}): Promise<FakeGithubAppOAuth> {
  const server = new OAuth2Server(undefined, undefined, { endpoints: { token: "/login/oauth/access_token" } });
  await server.issuer.keys.generate("RS256");
  const refreshRequests: Record<string, unknown>[] = [];
  const accessTokens = new Map<string, GithubUser>();
  /** Live refresh tokens: the account, and the access token issued with it (dead once it is used). */
  const refreshTokens = new Map<string, { account: GithubUser; accessToken: string }>();
  const failures: RefreshFailure[] = [];

  const issue = (account: GithubUser, accessToken = token("ghu")): TokenPair => {
    const pair = { access_token: accessToken, refresh_token: token("ghr") };
    accessTokens.set(pair.access_token, account);
    refreshTokens.set(pair.refresh_token, { account, accessToken: pair.access_token });
    return pair;
  };

  server.service.on(
    Events.BeforeResponse,
    (response: { body: Record<string, unknown> | ""; statusCode: number }, req) => {
      const body = req.body as Record<string, unknown>;
      if (body.grant_type !== "refresh_token") return;
      refreshRequests.push({ ...body });
      const githubError = (error: string, description: string) => {
        response.statusCode = 200;
        response.body = { error, error_description: description, error_uri: "https://docs.github.com/apps" };
      };
      const failure = failures.shift();
      if (failure) {
        response.statusCode = failure.status;
        response.body = failure.body ?? "";
        return;
      }
      if (body.client_id !== options.client.id || body.client_secret !== options.client.secret) {
        return githubError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
      }
      const live = refreshTokens.get(String(body.refresh_token));
      if (!live) return githubError("bad_refresh_token", "The refresh token passed is incorrect or expired.");
      refreshTokens.delete(String(body.refresh_token));
      accessTokens.delete(live.accessToken);
      // The access token oauth2-mock-server signed for this request, with a new refresh token.
      const pair = issue(live.account, String((response.body as Record<string, unknown>).access_token));
      response.body = {
        ...pair,
        expires_in: ACCESS_TOKEN_SECONDS,
        refresh_token_expires_in: REFRESH_TOKEN_SECONDS,
        scope: "",
        token_type: "bearer",
      };
    },
  );

  await server.start(options.port ?? 0, "127.0.0.1");
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    server,
    refreshRequests,
    grant: (account) => issue(account),
    tokenUser: (accessToken) => accessTokens.get(accessToken) ?? null,
    expire: (accessToken) => void accessTokens.delete(accessToken),
    failNextRefresh: (failure) => void failures.push(failure),
    close: () => server.stop(),
  };
}
