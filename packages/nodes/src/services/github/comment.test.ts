import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import type { FakeGithub } from "../../../../../tests/support/fakes/github.ts";
import { reactionContext } from "../../../../../tests/support/node_context.ts";
import { comment } from "./comment.ts";
import { github } from "./service.ts";
import { fakeGithub, reacting, TOKEN } from "./test_support.ts";

/** The fake GitHub with issue #1 open in octo/hello. */
async function fake(t: TestContext): Promise<FakeGithub> {
  const server = await fakeGithub(t);
  server.openIssue("octo/hello", "Build failed");
  return server;
}

test("comments on the issue with GitHub's headers and returns the comment's id and URL", async (t) => {
  const server = await fake(t);
  const output = await comment.run(reacting(server), { repository: "octo/hello", number: 1, body: "Fixed in #2" });
  const [created] = server.comments;
  assert.deepEqual(output, {
    id: created.id,
    html_url: `https://github.com/octo/hello/issues/1#issuecomment-${created.id}`,
  });
  const [request] = server.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.url, "/repos/octo/hello/issues/1/comments");
  assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(request.headers.accept, "application/vnd.github+json");
  assert.equal(request.headers["x-github-api-version"], "2022-11-28");
  assert.deepEqual(JSON.parse(request.body), { body: "Fixed in #2" });
  assert.deepEqual([created.repository, created.issue, created.body, created.user], [
    "octo/hello",
    1,
    "Fixed in #2",
    "ada",
  ]);
});

test("a number rendered from a placeholder inside text (a string) is accepted", async (t) => {
  const server = await fake(t);
  await comment.run(reacting(server), { repository: "octo/hello", number: "1", body: "ok" });
  assert.equal(server.requests[0].url, "/repos/octo/hello/issues/1/comments");
});

test("bad params are refused before any request, naming the field and the rule", async (t) => {
  const server = await fake(t);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ repository: "hello", number: 1, body: "x" }, /must be "owner\/name"[\s\S]*repository/],
    [{ repository: "octo/hello", number: 0, body: "x" }, /number/],
    [{ repository: "octo/hello", number: "one", body: "x" }, /number/],
    [{ repository: "octo/hello", number: 1.5, body: "x" }, /number/],
    [{ repository: "octo/hello", number: 1, body: "" }, /body/],
  ];
  for (const [params, message] of cases) {
    await assert.rejects(
      comment.run(reacting(server), params),
      (error) => error instanceof PermanentError && message.test(error.message),
      JSON.stringify(params),
    );
  }
  assert.equal(server.requests.length, 0);
});

test("a missing issue or repository is permanent; a blank body is GitHub's 422", async (t) => {
  const server = await fake(t);
  await assert.rejects(
    comment.run(reacting(server), { repository: "octo/hello", number: 7, body: "x" }),
    (error) => error instanceof PermanentError && !(error instanceof AuthError) && error.status === 404,
  );
  await assert.rejects(
    comment.run(reacting(server), { repository: "octo/missing", number: 1, body: "x" }),
    (error) => error instanceof PermanentError && error.status === 404,
  );
  await assert.rejects(
    comment.run(reacting(server), { repository: "octo/hello", number: 1, body: "  " }),
    (error) => error instanceof PermanentError && error.status === 422 && /Validation Failed/.test(error.message),
  );
  assert.equal(server.comments.length, 0);
});

test("refused credentials are an AuthError; 429 and a 403 rate limit are retryable", async (t) => {
  const server = await fake(t);
  const params = { repository: "octo/hello", number: 1, body: "x" };
  await assert.rejects(
    comment.run(reacting(server, "gho_revoked"), params),
    (error) => error instanceof AuthError && error.status === 401 && /Bad credentials/.test(error.message),
  );
  server.rateLimit({ status: 429, retryAfter: 30 });
  await assert.rejects(
    comment.run(reacting(server), params),
    (error) => error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 30,
  );
  server.rateLimit({ status: 403 });
  await assert.rejects(
    comment.run(reacting(server), params),
    (error) => error instanceof RetryableError && error.status === 403 && error.retryAfterSeconds === 60,
  );
  assert.equal(server.comments.length, 0);
});

test("the comment is sent once: the node fetch does not re-send a POST GitHub cannot deduplicate", async (t) => {
  const server = await fake(t);
  // A 502 would be retried within the call for a request safe to repeat; this one is left to the job.
  const ctx = reactionContext(github, {
    credentials: { access_token: TOKEN },
    env: { GITHUB_API_URL: server.origin },
    fetch: async (input, init) => {
      await globalThis.fetch(input, init);
      return new Response("bad gateway", { status: 502 });
    },
  });
  await assert.rejects(comment.run(ctx, { repository: "octo/hello", number: 1, body: "x" }), RetryableError);
  assert.equal(server.comments.length, 1, "one request reached GitHub");
});
