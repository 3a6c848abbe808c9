// GitHub's OAuth authorization server for tests: oauth2-mock-server (a real OAuth2 server: codes,
// PKCE S256 verification, signed tokens) at GitHub's paths, answering as GitHub documents:
// https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
// - the token endpoint takes client_id and client_secret in the form, checks the client and the
//   redirect_uri, and reports errors with status 200 and an `error` field (bad_verification_code,
//   incorrect_client_credentials, redirect_uri_mismatch);
// - its answer is `{access_token, token_type: "bearer", scope: "repo,admin:repo_hook"}` (comma-separated);
// - a user who refuses consent comes back with `error=access_denied`.
// Access tokens are JWTs signed by the mock: the REST fake (github.ts) verifies them to know the account.
import { createLocalJWKSet, jwtVerify } from "jose";
import { Events, OAuth2Server } from "oauth2-mock-server";
import type { GithubUser } from "./github.ts";

export interface FakeGithubOAuth {
  origin: string;
  server: OAuth2Server;
  /** The GitHub account that signs in at the next consent screen. */
  account: GithubUser;
  /** The form bodies the token endpoint received, in order. */
  tokenRequests: Record<string, unknown>[];
  /** The query of each authorize request. */
  authorizeRequests: URLSearchParams[];
  /** The next consent screen is refused by the user (error=access_denied). */
  denyNext(): void;
  /** The next code exchange fails as GitHub reports it (status 200, `error`), or with an HTTP status. */
  failNextExchange(failure: { error: string } | { status: number }): void;
  /** The account a token issued here belongs to, or null. */
  tokenUser(token: string): Promise<GithubUser | null>;
  close(): Promise<void>;
}

export async function startFakeGithubOAuth(options: {
  port?: number;
  client: { id: string; secret: string };
}): Promise<FakeGithubOAuth> {
  const server = new OAuth2Server(undefined, undefined, {
    endpoints: { authorize: "/login/oauth/authorize", token: "/login/oauth/access_token" },
  });
  await server.issuer.keys.generate("RS256");
  const tokenRequests: Record<string, unknown>[] = [];
  const authorizeRequests: URLSearchParams[] = [];
  /** What each code was issued for: checked at the exchange, as GitHub does. */
  const codes = new Map<string, { redirectUri: string; scope: string; account: GithubUser }>();
  let deny = false;
  let exchangeFailure: { error: string } | { status: number } | undefined;

  const fake: FakeGithubOAuth = {
    origin: "",
    server,
    account: { id: 1, login: "octocat", email: "octocat@github.com" },
    tokenRequests,
    authorizeRequests,
    denyNext: () => (deny = true),
    failNextExchange: (failure) => (exchangeFailure = failure),
    async tokenUser(token) {
      try {
        const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: server.issuer.keys.toJSON() }));
        return payload.github_user as GithubUser;
      } catch {
        return null;
      }
    },
    close: () => server.stop(),
  };

  server.service.on(Events.BeforeAuthorizeRedirect, (redirect: { url: URL }, req: { url?: string }) => {
    const query = new URL(req.url ?? "/", "http://fake").searchParams;
    authorizeRequests.push(query);
    const code = redirect.url.searchParams.get("code");
    if (deny) {
      deny = false;
      redirect.url.searchParams.delete("code");
      redirect.url.searchParams.set("error", "access_denied");
      redirect.url.searchParams.set("error_description", "The user has denied your application access.");
      redirect.url.searchParams.set(
        "error_uri",
        "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied",
      );
      return;
    }
    if (code) {
      codes.set(code, {
        redirectUri: query.get("redirect_uri") ?? "",
        scope: (query.get("scope") ?? "").split(" ").filter(Boolean).join(","),
        account: { ...fake.account },
      });
    }
  });

  server.service.on(Events.BeforeTokenSigning, (token: { payload: Record<string, unknown> }, req) => {
    const issued = codes.get(String(req.body.code));
    if (issued) {
      token.payload.sub = String(issued.account.id);
      token.payload.github_user = issued.account;
    }
  });

  server.service.on(
    Events.BeforeResponse,
    (response: { body: Record<string, unknown> | ""; statusCode: number }, req) => {
      const body = req.body as Record<string, unknown>;
      tokenRequests.push({ ...body });
      const githubError = (error: string, description: string) => {
        response.statusCode = 200;
        response.body = { error, error_description: description, error_uri: "https://docs.github.com/apps" };
      };
      const issued = codes.get(String(body.code));
      codes.delete(String(body.code));
      if (exchangeFailure) {
        const failure = exchangeFailure;
        exchangeFailure = undefined;
        if ("status" in failure) {
          response.statusCode = failure.status;
          response.body = "";
        } else githubError(failure.error, "The code passed is incorrect or expired.");
        return;
      }
      if (body.client_id !== options.client.id || body.client_secret !== options.client.secret) {
        return githubError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
      }
      if (!issued) return githubError("bad_verification_code", "The code passed is incorrect or expired.");
      if (body.redirect_uri !== undefined && body.redirect_uri !== issued.redirectUri) {
        return githubError("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL.");
      }
      const token = (response.body as Record<string, unknown>).access_token;
      // An OAuth app's user token: no expiry, no refresh token, scopes comma-separated.
      response.body = { access_token: token, token_type: "bearer", scope: issued.scope };
    },
  );

  await server.start(options.port ?? 0, "127.0.0.1");
  fake.origin = `http://127.0.0.1:${server.address().port}`;
  return fake;
}
