// The github repository picker against the fake GitHub API: the account's repositories by full name,
// paging by GitHub's Link header, the q filter, and the failure classes.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { AuthError, RetryableError } from "../../errors.ts";
import { jsonSchema } from "../../catalogue.ts";
import { InvalidOptionsCursor, optionsLoader } from "../../options.ts";
import { listRepositories } from "./repositories.ts";
import { github } from "./service.ts";
import { connected, fakeGithub, TOKEN } from "./test_support.ts";

const fake = (t: TestContext, repositories: string[], privateRepositories: string[] = []) =>
  fakeGithub(t, { repositories, privateRepositories });

const query = (url: string) => Object.fromEntries(new URL(url, "http://x").searchParams);

test("lists the account's repositories by full name, private ones marked", async (t) => {
  const server = await fake(t, ["octocat/hello-world", "octo-org/api", "octocat/secret"], ["octocat/secret"]);
  const page = await listRepositories(connected(server), {});
  assert.deepEqual(page, {
    options: [
      { value: "octo-org/api", label: "octo-org/api" },
      { value: "octocat/hello-world", label: "octocat/hello-world" },
      { value: "octocat/secret", label: "octocat/secret (private)" },
    ],
  });
  const [request] = server.requests;
  assert.equal(new URL(request.url, "http://x").pathname, "/user/repos");
  assert.deepEqual(query(request.url), { sort: "full_name", per_page: "100", page: "1" });
  assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(request.headers["x-github-api-version"], "2022-11-28");
});

test("pages with the page number GitHub's next link names, until there is no next link", async (t) => {
  const names = Array.from({ length: 230 }, (_, i) => `octocat/repo-${String(i).padStart(3, "0")}`);
  const server = await fake(t, names);
  const seen: string[] = [];
  let cursor: string | undefined;
  const cursors: (string | undefined)[] = [];
  do {
    const page = await listRepositories(connected(server), { cursor });
    seen.push(...page.options.map((option) => option.value));
    cursor = page.next_cursor;
    cursors.push(cursor);
  } while (cursor);
  assert.deepEqual(cursors, ["2", "3", undefined]);
  assert.deepEqual(seen, names);
  assert.deepEqual(server.requests.map((request) => query(request.url).page), ["1", "2", "3"]);
});

test("q keeps the repositories whose name contains it, case-insensitively", async (t) => {
  const server = await fake(t, ["octocat/Hello-World", "octocat/spoon-knife"]);
  const page = await listRepositories(connected(server), { q: "hello" });
  assert.deepEqual(page.options.map((option) => option.value), ["octocat/Hello-World"]);
});

test("a cursor that is not a page number is refused before GitHub is called", async (t) => {
  const server = await fake(t, []);
  for (const cursor of ["0", "https://evil.example/user/repos?page=2", "2&per_page=1"]) {
    await assert.rejects(listRepositories(connected(server), { cursor }), InvalidOptionsCursor, cursor);
  }
  assert.equal(server.requests.length, 0);
});

test("bad credentials are an AuthError; rate limits (429, and 403 primary) are retryable", async (t) => {
  const server = await fake(t, ["octocat/hello-world"]);
  await assert.rejects(
    listRepositories(connected(server, "gho_revoked"), {}),
    (error) => error instanceof AuthError && error.status === 401,
  );
  server.rateLimit({ status: 429, retryAfter: 30 });
  await assert.rejects(
    listRepositories(connected(server), {}),
    (error) => error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 30,
  );
  server.rateLimit({ status: 403 });
  await assert.rejects(
    listRepositories(connected(server), {}),
    (error) => error instanceof RetryableError && error.status === 403,
  );
});

test("the github nodes' repository param declares the picker, to the catalogue and to the api", () => {
  assert.equal(optionsLoader(github, "repository"), listRepositories);
  const create = github.reactions.find((reaction) => reaction.key === "create_issue")!;
  const property = jsonSchema(create.params).properties?.repository as Record<string, unknown>;
  assert.equal(property["x-area-options"], true);
});
