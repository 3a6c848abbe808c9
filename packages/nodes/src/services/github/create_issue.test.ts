import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { createIssue } from "./create_issue.ts";
import { github } from "./service.ts";
import { fakeGithub, reacting, TOKEN } from "./test_support.ts";

test("creates the issue with GitHub's headers and returns its number and URL", async (t) => {
  const server = await fakeGithub(t);
  const output = await createIssue.run(reacting(server), {
    repository: "octo/hello",
    title: "Build failed",
    body: "See the logs",
  });
  assert.deepEqual(output, { number: 1, html_url: "https://github.com/octo/hello/issues/1" });
  const [request] = server.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.url, "/repos/octo/hello/issues");
  assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(request.headers.accept, "application/vnd.github+json");
  assert.equal(request.headers["x-github-api-version"], "2022-11-28");
  assert.ok(request.headers["user-agent"]);
  assert.deepEqual(JSON.parse(request.body), { title: "Build failed", body: "See the logs" });
  assert.deepEqual(server.issues.map((issue) => [issue.repository, issue.title, issue.user]), [
    ["octo/hello", "Build failed", "ada"],
  ]);
});

test("a refused token is an AuthError (the connection needs reconnecting)", async (t) => {
  const server = await fakeGithub(t);
  await assert.rejects(
    createIssue.run(reacting(server, "gho_revoked"), { repository: "octo/hello", title: "x" }),
    (error) => error instanceof AuthError && error.status === 401 && /Bad credentials/.test(error.message),
  );
});

test("GitHub's 422 Validation Failed and a missing repository are permanent", async (t) => {
  const server = await fakeGithub(t);
  await assert.rejects(
    createIssue.run(reacting(server), { repository: "octo/hello", title: "" }),
    (error) => error instanceof PermanentError && error.status === undefined && /title/.test(error.message),
  );
  assert.equal(server.requests.length, 0, "params that cannot be right never reach GitHub");
  // A title that renders blank passes the params check; GitHub refuses it.
  await assert.rejects(
    createIssue.run(reacting(server), { repository: "octo/hello", title: "   " }),
    (error) =>
      error instanceof PermanentError && !(error instanceof AuthError) && error.status === 422 &&
      /Validation Failed.*missing_field/.test(error.message),
  );
  await assert.rejects(
    createIssue.run(reacting(server), { repository: "octo/missing", title: "x" }),
    (error) => error instanceof PermanentError && error.status === 404,
  );
  assert.equal(server.issues.length, 0);
});

test("a repository that is not owner/name is refused before any request, naming the field and the rule", async (t) => {
  const server = await fakeGithub(t);
  for (const repository of ["hello", "octo/hello/issues", "octo/..", "octo hello/x"]) {
    await assert.rejects(
      createIssue.run(reacting(server), { repository, title: "x" }),
      (error) =>
        error instanceof PermanentError && /must be "owner\/name"/.test(error.message) &&
        /repository/.test(error.message),
      repository,
    );
  }
  assert.equal(server.requests.length, 0);
});

test("429 with Retry-After, and a 403 rate limit, are retryable", async (t) => {
  const server = await fakeGithub(t);
  server.rateLimit({ status: 429, retryAfter: 30 });
  await assert.rejects(
    createIssue.run(reacting(server), { repository: "octo/hello", title: "x" }),
    (error) => error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 30,
  );
  server.rateLimit({ status: 403 });
  await assert.rejects(
    createIssue.run(reacting(server), { repository: "octo/hello", title: "x" }),
    (error) => error instanceof RetryableError && error.status === 403 && error.retryAfterSeconds === 60,
  );
  assert.equal(server.issues.length, 0);
});

test("a connection without an access token is an AuthError before any request", async (t) => {
  const server = await fakeGithub(t);
  const ctx = { ...reacting(server), credentials: {} };
  await assert.rejects(createIssue.run(ctx, { repository: "octo/hello", title: "x" }), AuthError);
  assert.equal(server.requests.length, 0);
});

test("the service declares GitHub's OAuth2 endpoints, PKCE and the scopes for issues and repository hooks", () => {
  assert.equal(github.auth, "oauth2");
  assert.deepEqual(github.oauth2?.scopes, ["repo", "admin:repo_hook"]);
  assert.equal(github.oauth2?.pkce, true);
  assert.equal(github.oauth2?.clientIdEnv, "GITHUB_CLIENT_ID");
});
