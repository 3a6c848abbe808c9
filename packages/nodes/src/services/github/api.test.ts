// Pagination of GitHub lists: the Link header (RFC 8288) as GitHub writes it, and where it may lead.
// https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { PermanentError } from "../../errors.ts";
import { nodeContext } from "../../../../../tests/support/node_context.ts";
import { type Receiver, sendJson, startReceiver } from "../../../../../tests/support/receiver.ts";
import { githubPages, nextPageUrl } from "./api.ts";
import { github } from "./service.ts";

test("the next page is the rel=next target, wherever it sits in the header", () => {
  const api = "https://api.github.com/repositories/1300192/issues";
  assert.equal(
    nextPageUrl(
      `<${api}?page=2>; rel="prev", <${api}?page=4>; rel="next", <${api}?page=515>; rel="last", <${api}?page=1>; rel="first"`,
    ),
    `${api}?page=4`,
  );
  assert.equal(nextPageUrl(`<${api}?per_page=100&page=2>; rel="next"`), `${api}?per_page=100&page=2`);
  assert.equal(nextPageUrl(`<${api}?page=3>; rel=next`), `${api}?page=3`);
  assert.equal(nextPageUrl(`<${api}?page=1>; rel="first", <${api}?page=2>; rel="prev"`), null, "the last page");
  assert.equal(nextPageUrl(null), null);
  assert.equal(nextPageUrl("garbage"), null);
});

async function pagedServer(t: TestContext, links: (origin: string, page: number) => string | undefined) {
  const server: Receiver = await startReceiver((request, response) => {
    const page = Number(new URL(request.url, server.origin).searchParams.get("page") ?? "1");
    const link = links(server.origin, page);
    sendJson(response, 200, [{ page }], link ? { link } : {});
  });
  t.after(() => server.close());
  const ctx = nodeContext(github, { credentials: { access_token: "gho_x" }, env: { GITHUB_API_URL: server.origin } });
  return { server, ctx };
}

const nextLink = (origin: string, page: number) => `<${origin}/next?per_page=100&page=${page + 1}>; rel="next"`;

async function pageNumbers(ctx: Parameters<typeof githubPages>[0]): Promise<number[]> {
  const pages = [];
  for await (const page of githubPages<{ page: number }>(ctx, "/list")) pages.push(page[0].page);
  return pages;
}

test("pages are read 100 at a time, following the next link until there is none", async (t) => {
  const { server, ctx } = await pagedServer(t, (origin, page) => page < 3 ? nextLink(origin, page) : undefined);
  assert.deepEqual(await pageNumbers(ctx), [1, 2, 3]);
  assert.deepEqual(server.received.map((request) => request.url), [
    "/list?per_page=100",
    "/next?per_page=100&page=2",
    "/next?per_page=100&page=3",
  ]);
});

test("at most 10 pages are read from one list", async (t) => {
  const { server, ctx } = await pagedServer(t, nextLink);
  assert.deepEqual(await pageNumbers(ctx), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(server.received.length, 10);
});

test("a next link off the API's origin is refused: the token would follow it", async (t) => {
  const { server, ctx } = await pagedServer(t, () => `<https://evil.example.org/list?page=2>; rel="next"`);
  const pages = githubPages(ctx, "/list");
  assert.equal((await pages.next()).done, false);
  await assert.rejects(
    pages.next(),
    (error) => error instanceof PermanentError && /evil\.example\.org/.test(error.message),
  );
  assert.equal(server.received.length, 1);
});
