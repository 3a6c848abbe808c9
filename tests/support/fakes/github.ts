// A local fake of GitHub's REST API (Node only), following GitHub's documented requests and answers:
// https://docs.github.com/en/rest/users/users#get-the-authenticated-user
// https://docs.github.com/en/rest/issues/issues#create-an-issue
// https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
// https://docs.github.com/en/rest/repos/webhooks (create, list, update, delete a repository webhook)
// https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
// https://docs.github.com/en/webhooks/webhook-events-and-payloads (delivery headers)
// https://docs.github.com/en/rest/repos/repos#list-repositories-for-the-authenticated-user
// https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
// It checks what GitHub checks (a User-Agent, the bearer token, the body), answers with GitHub's
// bodies and headers (401 "Bad credentials", 422 "Validation Failed" with `errors`, 403/429 rate
// limits with Retry-After and x-ratelimit-*, 404 for what does not exist or is not visible, Link
// pagination), records every request for assertions, and delivers signed webhook events to the hooks
// it holds.
import { createHmac, randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { WebhookRequest } from "../../../packages/nodes/src/define.ts";
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

export interface IssueComment {
  id: number;
  repository: string;
  issue: number;
  body: string;
  html_url: string;
  user: string;
}

/** A repository webhook as the fake keeps it (the secret in clear, which GitHub never shows back). */
export interface RepositoryHook {
  id: number;
  repository: string;
  active: boolean;
  events: string[];
  config: { url: string; content_type: string; insecure_ssl: string; secret?: string };
  created_at: string;
  updated_at: string;
}

/** A webhook delivery as GitHub sends it: its headers (GitHub's capitalisation) and JSON body. */
export interface GithubDelivery {
  headers: Record<string, string>;
  body: string;
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
  /** Of `repositories`, the private ones (GET /user/repos lists every repository, with `private`). */
  privateRepositories?: string[];
}

export interface FakeGithub {
  origin: string;
  port: number;
  requests: RecordedRequest[];
  issues: Issue[];
  comments: IssueComment[];
  hooks: RepositoryHook[];
  /** Adds an issue as if someone had opened it (comments need one). */
  openIssue(repository: string, title: string, user?: string): Issue;
  /** Adds a hook as if someone had created it on GitHub. */
  addHook(
    repository: string,
    hook: { url: string; events?: string[]; secret?: string; active?: boolean },
  ): RepositoryHook;
  /**
   * Sends `payload` as event `event` to every active hook of `repository` that subscribes to it, signed
   * with each hook's secret; resolves to the status each hook's URL answered.
   */
  deliver(repository: string, event: string, payload: unknown): Promise<{ hook: RepositoryHook; status: number }[]>;
  /** Access tokens revoked through DELETE /applications/{client_id}/token: refused from then on. */
  revoked: string[];
  /**
   * The next `count` API calls answer a rate limit: 429 (secondary limit) or 403 (primary limit,
   * x-ratelimit-remaining 0), with Retry-After when `retryAfter` is given; the first `after` calls
   * (default 0) still pass.
   */
  rateLimit(options: { status: 403 | 429; retryAfter?: number; count?: number; after?: number }): void;
  close(): Promise<void>;
}

const DOCS = "https://docs.github.com/rest";
const HOOKS_DOCS = "https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook";
/** GitHub's default and largest page sizes. */
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;

/** The delivery GitHub would send: its documented headers, signed with the hook's secret (when it has one). */
function githubDelivery(options: {
  event: string;
  payload: unknown;
  secret?: string;
  /** The X-GitHub-Delivery GUID (a fresh one when absent; null leaves the header out). */
  delivery?: string | null;
  hookId?: number;
}): GithubDelivery {
  const body = JSON.stringify(options.payload);
  const headers: Record<string, string> = {
    "User-Agent": "GitHub-Hookshot/044aadd",
    "Content-Type": "application/json",
    "X-GitHub-Event": options.event,
    "X-GitHub-Hook-ID": String(options.hookId ?? 1),
    "X-GitHub-Hook-Installation-Target-Type": "repository",
    "X-GitHub-Hook-Installation-Target-ID": "1296269",
  };
  if (options.delivery !== null) headers["X-GitHub-Delivery"] = options.delivery ?? randomUUID();
  if (options.secret) {
    headers["X-Hub-Signature"] = `sha1=${createHmac("sha1", options.secret).update(body).digest("hex")}`;
    headers["X-Hub-Signature-256"] = `sha256=${createHmac("sha256", options.secret).update(body).digest("hex")}`;
  }
  return { headers, body };
}

/** A delivery as the webhooks function hands it to a trigger (lower-cased headers, parsed body). */
export function githubWebhookRequest(options: Parameters<typeof githubDelivery>[0]): WebhookRequest {
  const { headers, body } = githubDelivery(options);
  return {
    method: "POST",
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])),
    query: {},
    rawBody: new TextEncoder().encode(body),
    body: JSON.parse(body),
    receivedAt: new Date(),
  };
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  sendJson(response, status, body, {
    "x-github-media-type": "github.v3; format=json",
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4999",
    "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
    ...headers,
  });
}

/** Now, to the second, as GitHub writes times. */
const timestamp = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

const error = (message: string, status: number, extra: Record<string, unknown> = {}) => ({
  message,
  documentation_url: DOCS,
  status: String(status),
  ...extra,
});

export async function startFakeGithub(options: FakeGithubOptions): Promise<FakeGithub> {
  const issues: Issue[] = [];
  const comments: IssueComment[] = [];
  const hooks: RepositoryHook[] = [];
  const repositoryIds = new Map<string, number>();
  const revoked: string[] = [];
  let limited: { status: 403 | 429; retryAfter?: number; count: number; after: number } | undefined;
  let origin = "";
  // Hook ids keep growing after deletions, as GitHub's do.
  let hookCount = 0;

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

    if (limited && limited.after > 0) {
      limited.after--;
    } else if (limited && limited.count > 0) {
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

    // https://docs.github.com/en/rest/repos/repos#list-repositories-for-the-authenticated-user
    // Sorted by full_name (the default), `per_page` up to 100 (default 30), pages linked by a Link header.
    if (path === "/user/repos" && request.method === "GET") {
      const url = new URL(request.url, origin);
      const perPage = Math.min(Number(url.searchParams.get("per_page") ?? "30") || 30, 100);
      const page = Math.max(Number(url.searchParams.get("page") ?? "1") || 1, 1);
      const all = [...options.repositories ?? []].sort();
      const last = Math.max(Math.ceil(all.length / perPage), 1);
      const linkTo = (target: number) => {
        url.searchParams.set("page", String(target));
        return url.href;
      };
      const links = [
        ...(page < last ? [`<${linkTo(page + 1)}>; rel="next"`, `<${linkTo(last)}>; rel="last"`] : []),
        ...(page > 1 ? [`<${linkTo(1)}>; rel="first"`, `<${linkTo(page - 1)}>; rel="prev"`] : []),
      ];
      return send(
        response,
        200,
        all.slice((page - 1) * perPage, page * perPage).map((fullName, index) => ({
          id: 2_000_000 + (page - 1) * perPage + index,
          name: fullName.split("/")[1],
          full_name: fullName,
          private: options.privateRepositories?.includes(fullName) ?? false,
          owner: { login: fullName.split("/")[0] },
          html_url: `https://github.com/${fullName}`,
        })),
        links.length ? { link: links.join(", ") } : {},
      );
    }

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

    // /repos/{owner}/{repo}/…, or /repositories/{id}/… as GitHub's Link headers write it.
    const named = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    const numbered = /^\/repositories\/([0-9]+)(\/.*)?$/.exec(path);
    const repository = named
      ? `${decodeURIComponent(named[1])}/${decodeURIComponent(named[2])}`
      : numbered && [...repositoryIds].find(([, id]) => String(id) === numbered[1])?.[0];
    if (!repository || (options.repositories && !options.repositories.includes(repository))) {
      return send(response, 404, error("Not Found", 404));
    }
    const rest = (named ? named[3] : numbered![2]) ?? "";
    const query = new URL(request.url, "http://fake").searchParams;

    if (rest === "/issues" && request.method === "POST") {
      const input = parseBody(request, response);
      if (!input) return;
      const title = input.title;
      // A blank title is a missing one.
      if (title === undefined || title === null || String(title).trim() === "") {
        return validationFailed(response, { resource: "Issue", code: "missing_field", field: "title" });
      }
      if (typeof title !== "string" && typeof title !== "number") {
        return validationFailed(response, { resource: "Issue", code: "invalid", field: "title" });
      }
      const issue = openIssue(
        repository,
        String(title),
        user.login,
        typeof input.body === "string" ? input.body : null,
      );
      const url = `${origin}/repos/${repository}/issues/${issue.number}`;
      return send(response, 201, {
        id: issue.id,
        number: issue.number,
        title: issue.title,
        body: issue.body,
        state: "open",
        html_url: issue.html_url,
        url,
        user: { login: user.login, id: user.id },
      }, { location: url });
    }

    const commentsOf = /^\/issues\/([0-9]+)\/comments$/.exec(rest);
    if (commentsOf && request.method === "POST") {
      const number = Number(commentsOf[1]);
      const issue = issues.find((candidate) => candidate.repository === repository && candidate.number === number);
      if (!issue) return send(response, 404, error("Not Found", 404));
      const input = parseBody(request, response);
      if (!input) return;
      if (typeof input.body !== "string" || input.body.trim() === "") {
        return validationFailed(response, { resource: "IssueComment", code: "missing_field", field: "body" });
      }
      const id = 1_100_000 + comments.length;
      const comment: IssueComment = {
        id,
        repository,
        issue: number,
        body: input.body,
        html_url: `${issue.html_url}#issuecomment-${id}`,
        user: user.login,
      };
      comments.push(comment);
      const url = `${origin}/repos/${repository}/issues/comments/${id}`;
      const now = timestamp();
      return send(response, 201, {
        id,
        node_id: `IC_${id}`,
        url,
        html_url: comment.html_url,
        issue_url: `${origin}/repos/${repository}/issues/${number}`,
        body: comment.body,
        user: { login: user.login, id: user.id },
        created_at: now,
        updated_at: now,
        author_association: "OWNER",
      }, { location: url });
    }

    if (rest === "/hooks" && request.method === "GET") {
      const perPage = Math.min(Math.max(Number(query.get("per_page")) || DEFAULT_PER_PAGE, 1), MAX_PER_PAGE);
      const page = Math.max(Number(query.get("page")) || 1, 1);
      const own = hooks.filter((hook) => hook.repository === repository);
      const last = Math.max(Math.ceil(own.length / perPage), 1);
      // GitHub's links name the repository by id and keep the query's other parameters.
      const link = (target: number, rel: string) => {
        const url = new URL(`${origin}/repositories/${repositoryId(repository)}/hooks`);
        url.searchParams.set("per_page", String(perPage));
        url.searchParams.set("page", String(target));
        return `<${url.href}>; rel="${rel}"`;
      };
      const links = [
        ...(page > 1 ? [link(page - 1, "prev")] : []),
        ...(page < last ? [link(page + 1, "next"), link(last, "last")] : []),
        ...(page > 1 ? [link(1, "first")] : []),
      ];
      return send(
        response,
        200,
        own.slice((page - 1) * perPage, page * perPage).map(hookJson),
        links.length > 0 ? { link: links.join(", ") } : {},
      );
    }

    if (rest === "/hooks" && request.method === "POST") {
      const input = parseBody(request, response);
      if (!input) return;
      const config = (input.config ?? {}) as Record<string, unknown>;
      const events = input.events ?? ["push"];
      if (input.name !== undefined && input.name !== "web") {
        return validationFailed(response, { resource: "Hook", code: "invalid", field: "name" }, HOOKS_DOCS);
      }
      if (typeof config.url !== "string" || !URL.canParse(config.url)) {
        return validationFailed(response, {
          resource: "Hook",
          code: "custom",
          message: "Config must have a valid url",
        });
      }
      if (!Array.isArray(events) || !events.every((event) => typeof event === "string")) {
        return validationFailed(response, { resource: "Hook", code: "invalid", field: "events" }, HOOKS_DOCS);
      }
      // "Multiple webhooks can share the same config as long as those webhooks do not have any events that overlap."
      const duplicate = hooks.some((hook) =>
        hook.repository === repository && hook.config.url === config.url &&
        hook.events.some((event) => events.includes(event))
      );
      if (duplicate) {
        return validationFailed(
          response,
          { resource: "Hook", code: "custom", message: "Hook already exists on this repository" },
          HOOKS_DOCS,
        );
      }
      const hook = addHook(repository, {
        url: config.url,
        events,
        secret: typeof config.secret === "string" ? config.secret : undefined,
        active: input.active !== false,
        contentType: typeof config.content_type === "string" ? config.content_type : undefined,
        insecureSsl: typeof config.insecure_ssl === "string" ? config.insecure_ssl : undefined,
      });
      return send(response, 201, hookJson(hook), { location: `${origin}/repos/${repository}/hooks/${hook.id}` });
    }

    const hookPath = /^\/hooks\/([0-9]+)$/.exec(rest);
    const hook = hookPath &&
      hooks.find((candidate) => candidate.repository === repository && candidate.id === Number(hookPath[1]));
    if (hookPath && !hook) return send(response, 404, error("Not Found", 404));
    if (hook && request.method === "GET") return send(response, 200, hookJson(hook));
    if (hook && request.method === "PATCH") {
      const input = parseBody(request, response);
      if (!input) return;
      const config = (input.config ?? {}) as Record<string, unknown>;
      if (config.url !== undefined && (typeof config.url !== "string" || !URL.canParse(config.url))) {
        return validationFailed(response, {
          resource: "Hook",
          code: "custom",
          message: "Config must have a valid url",
        });
      }
      for (const key of ["url", "content_type", "secret", "insecure_ssl"] as const) {
        if (typeof config[key] === "string") hook.config[key] = config[key];
      }
      const { events, add_events: added, remove_events: removed } = input;
      if (Array.isArray(events)) hook.events = events.map(String);
      if (Array.isArray(added)) hook.events = [...new Set([...hook.events, ...added.map(String)])];
      if (Array.isArray(removed)) hook.events = hook.events.filter((event) => !removed.includes(event));
      if (typeof input.active === "boolean") hook.active = input.active;
      hook.updated_at = timestamp();
      return send(response, 200, hookJson(hook));
    }
    if (hook && request.method === "DELETE") {
      hooks.splice(hooks.indexOf(hook), 1);
      response.writeHead(204).end();
      return;
    }

    return send(response, 404, error("Not Found", 404));
  }

  function repositoryId(repository: string): number {
    let id = repositoryIds.get(repository);
    if (id === undefined) repositoryIds.set(repository, id = 1_296_269 + repositoryIds.size);
    return id;
  }

  /** The request's JSON object body, or null once a 400 "Problems parsing JSON" is sent. */
  function parseBody(request: RecordedRequest, response: ServerResponse): Record<string, unknown> | null {
    try {
      const input = JSON.parse(request.body);
      if (typeof input === "object" && input !== null && !Array.isArray(input)) return input;
    } catch {
      // answered below
    }
    send(response, 400, error("Problems parsing JSON", 400));
    return null;
  }

  function validationFailed(response: ServerResponse, problem: Record<string, unknown>, documentation = DOCS) {
    return send(response, 422, {
      ...error("Validation Failed", 422, { errors: [problem] }),
      documentation_url: documentation,
    });
  }

  function openIssue(repository: string, title: string, user = "octocat", body: string | null = null): Issue {
    const number = issues.filter((issue) => issue.repository === repository).length + 1;
    const issue: Issue = {
      id: 1_000_000 + issues.length,
      number,
      title,
      body,
      html_url: `https://github.com/${repository}/issues/${number}`,
      repository,
      user,
    };
    issues.push(issue);
    return issue;
  }

  function addHook(
    repository: string,
    hook: {
      url: string;
      events?: string[];
      secret?: string;
      active?: boolean;
      contentType?: string;
      insecureSsl?: string;
    },
  ): RepositoryHook {
    repositoryId(repository);
    const now = timestamp();
    const added: RepositoryHook = {
      id: 12_345_678 + hookCount++,
      repository,
      active: hook.active ?? true,
      events: hook.events ?? ["push"],
      config: {
        url: hook.url,
        content_type: hook.contentType ?? "form",
        insecure_ssl: hook.insecureSsl ?? "0",
        ...(hook.secret ? { secret: hook.secret } : {}),
      },
      created_at: now,
      updated_at: now,
    };
    hooks.push(added);
    return added;
  }

  /** A hook as the API shows it: the secret masked, GitHub's URLs. */
  function hookJson(hook: RepositoryHook) {
    const url = `${origin}/repos/${hook.repository}/hooks/${hook.id}`;
    const { secret, ...config } = hook.config;
    return {
      type: "Repository",
      id: hook.id,
      name: "web",
      active: hook.active,
      events: hook.events,
      config: secret ? { ...config, secret: "********" } : config,
      updated_at: hook.updated_at,
      created_at: hook.created_at,
      url,
      test_url: `${url}/test`,
      ping_url: `${url}/pings`,
      deliveries_url: `${url}/deliveries`,
      last_response: { code: null, status: "unused", message: null },
    };
  }

  async function deliver(repository: string, event: string, payload: unknown) {
    const targets = hooks.filter((hook) =>
      hook.repository === repository && hook.active && (hook.events.includes(event) || hook.events.includes("*"))
    );
    const results: { hook: RepositoryHook; status: number }[] = [];
    for (const hook of targets) {
      const { headers, body } = githubDelivery({ event, payload, secret: hook.config.secret, hookId: hook.id });
      const answer = await fetch(hook.config.url, { method: "POST", headers, body });
      await answer.body?.cancel();
      results.push({ hook, status: answer.status });
    }
    return results;
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
    comments,
    hooks,
    openIssue: (repository, title, user) => openIssue(repository, title, user),
    addHook: (repository, hook) => addHook(repository, hook),
    deliver,
    revoked,
    rateLimit: ({ status, retryAfter, count = 1, after = 0 }) => (limited = { status, retryAfter, count, after }),
    close: server.close,
  };
}
