// A local fake of GitHub's REST API (Node only), following GitHub's documented requests and answers:
// https://docs.github.com/en/rest/users/users#get-the-authenticated-user
// https://docs.github.com/en/rest/issues/issues#create-an-issue
// https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
// It checks what GitHub checks (a User-Agent, the bearer token, the body), answers with GitHub's
// bodies and headers (401 "Bad credentials", 422 "Validation Failed" with `errors`, 403/429 rate
// limits with Retry-After and x-ratelimit-*), and records every request for assertions.
import type { ServerResponse } from "node:http";
import { type Received, sendJson, startReceiver } from "../receiver.ts";

export interface GithubUser {
  id: number;
  login: string;
  email: string | null;
}

export type RecordedRequest = Received;

export interface Issue {
  id: number;
  number: number;
  title: string;
  body: string | null;
  html_url: string;
  repository: string;
  user: string;
}

export interface FakeGithubOptions {
  /** Port on 127.0.0.1 (0: any free one). */
  port?: number;
  /** The account behind an access token, or null when GitHub would not know the token. */
  authenticate: (token: string) => GithubUser | null | Promise<GithubUser | null>;
  /** The OAuth app's credentials, checked by the token revocation endpoint (HTTP Basic). */
  client?: { id: string; secret: string };
  /** Repositories ("owner/name") that exist; any repository exists when absent. */
  repositories?: string[];
}

export interface FakeGithub {
  origin: string;
  port: number;
  requests: RecordedRequest[];
  issues: Issue[];
  /** Access tokens revoked through DELETE /applications/{client_id}/token: refused from then on. */
  revoked: string[];
  /**
   * The next `count` API calls answer a rate limit: 429 (secondary limit) or 403 (primary limit,
   * x-ratelimit-remaining 0), with Retry-After when `retryAfter` is given.
   */
  rateLimit(options: { status: 403 | 429; retryAfter?: number; count?: number }): void;
  close(): Promise<void>;
}

const DOCS = "https://docs.github.com/rest";

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  sendJson(response, status, body, {
    "x-github-media-type": "github.v3; format=json",
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4999",
    "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
    ...headers,
  });
}

const error = (message: string, status: number, extra: Record<string, unknown> = {}) => ({
  message,
  documentation_url: DOCS,
  status: String(status),
  ...extra,
});

export async function startFakeGithub(options: FakeGithubOptions): Promise<FakeGithub> {
  const issues: Issue[] = [];
  const revoked: string[] = [];
  let limited: { status: 403 | 429; retryAfter?: number; count: number } | undefined;
  let origin = "";

  async function handle(request: RecordedRequest, response: ServerResponse) {
    const path = new URL(request.url, "http://fake").pathname;
    // "API requests with no User-Agent header will be rejected."
    if (!request.headers["user-agent"]) {
      return send(response, 403, {
        message: "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        documentation_url: DOCS,
      });
    }

    const revoke = /^\/applications\/([^/]+)\/token$/.exec(path);
    if (revoke && request.method === "DELETE") {
      const [scheme, encoded] = (request.headers.authorization ?? "").split(" ");
      const [id, secret] = Buffer.from(encoded ?? "", "base64").toString().split(":");
      if (
        scheme !== "Basic" || !options.client || id !== options.client.id || secret !== options.client.secret ||
        decodeURIComponent(revoke[1]) !== options.client.id
      ) {
        return send(response, 404, error("Not Found", 404));
      }
      const token = (JSON.parse(request.body || "{}") as { access_token?: unknown }).access_token;
      if (typeof token !== "string") {
        return send(response, 422, error('Invalid request.\n\n"access_token" wasn\'t supplied.', 422));
      }
      revoked.push(token);
      response.writeHead(204).end();
      return;
    }

    if (limited && limited.count > 0) {
      limited.count--;
      const reset = String(Math.floor(Date.now() / 1000) + (limited.retryAfter ?? 60));
      const headers: Record<string, string> = limited.status === 403
        ? { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset }
        : {};
      if (limited.retryAfter !== undefined) headers["retry-after"] = String(limited.retryAfter);
      const message = limited.status === 403
        ? "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID."
        : "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
      return send(response, limited.status, error(message, limited.status), headers);
    }

    const bearer = /^(?:Bearer|token)\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    const user = bearer && !revoked.includes(bearer) ? await options.authenticate(bearer) : null;
    if (!user) return send(response, 401, error("Bad credentials", 401));

    if (path === "/user" && request.method === "GET") {
      return send(response, 200, {
        login: user.login,
        id: user.id,
        node_id: `U_${user.id}`,
        type: "User",
        html_url: `https://github.com/${user.login}`,
        email: user.email,
      });
    }

    const create = /^\/repos\/([^/]+)\/([^/]+)\/issues$/.exec(path);
    if (create && request.method === "POST") {
      const repository = `${decodeURIComponent(create[1])}/${decodeURIComponent(create[2])}`;
      if (options.repositories && !options.repositories.includes(repository)) {
        return send(response, 404, error("Not Found", 404));
      }
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(request.body);
      } catch {
        return send(response, 400, error("Problems parsing JSON", 400));
      }
      const title = input.title;
      // A blank title is a missing one.
      if (title === undefined || title === null || String(title).trim() === "") {
        return send(
          response,
          422,
          error("Validation Failed", 422, { errors: [{ resource: "Issue", code: "missing_field", field: "title" }] }),
        );
      }
      if (typeof title !== "string" && typeof title !== "number") {
        return send(
          response,
          422,
          error("Validation Failed", 422, { errors: [{ resource: "Issue", code: "invalid", field: "title" }] }),
        );
      }
      const number = issues.filter((issue) => issue.repository === repository).length + 1;
      const issue: Issue = {
        id: 1_000_000 + issues.length,
        number,
        title: String(title),
        body: typeof input.body === "string" ? input.body : null,
        html_url: `https://github.com/${repository}/issues/${number}`,
        repository,
        user: user.login,
      };
      issues.push(issue);
      return send(response, 201, {
        id: issue.id,
        number,
        title: issue.title,
        body: issue.body,
        state: "open",
        html_url: issue.html_url,
        url: `${origin}/repos/${repository}/issues/${number}`,
        user: { login: user.login, id: user.id },
      }, { location: `${origin}/repos/${repository}/issues/${number}` });
    }

    return send(response, 404, error("Not Found", 404));
  }

  const server = await startReceiver(async (request, response) => {
    try {
      await handle(request, response);
    } catch (failure) {
      send(response, 500, error(String(failure), 500));
    }
  }, { port: options.port });
  origin = server.origin;
  return {
    origin,
    port: server.port,
    requests: server.received,
    issues,
    revoked,
    rateLimit: ({ status, retryAfter, count = 1 }) => (limited = { status, retryAfter, count }),
    close: server.close,
  };
}
