// The repository picker of the github nodes: the repositories the connected account can reach (its
// own, its collaborations, its organizations'), by full name, a GitHub page at a time.
// https://docs.github.com/en/rest/repos/repos#list-repositories-for-the-authenticated-user
// https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
import type { NodeContext } from "../../define.ts";
import { InvalidOptionsCursor, matchesQuery, type OptionsPage, type OptionsQuery } from "../../options.ts";
import { GITHUB_API_URL, githubRequest, nextPageUrl, readList } from "./api.ts";

/** GitHub's largest page. */
const PER_PAGE = 100;
/** A page number as a cursor: what GitHub's `rel="next"` link names. */
const PAGE_CURSOR = /^[1-9][0-9]{0,5}$/;

interface Repository {
  full_name: string;
  private?: boolean;
}

/**
 * One page of repositories, sorted by full name. The cursor is the page number GitHub's next link
 * names, never the link itself: a client must not choose where the token is sent.
 */
export async function listRepositories(ctx: NodeContext, { cursor, q }: OptionsQuery): Promise<OptionsPage> {
  if (cursor !== undefined && !PAGE_CURSOR.test(cursor)) throw new InvalidOptionsCursor(cursor);
  const query = new URLSearchParams({ sort: "full_name", per_page: String(PER_PAGE), page: cursor ?? "1" });
  const response = await githubRequest(ctx, "GET", `/user/repos?${query}`);
  const options = (await readList<Repository>(response, "GET /user/repos"))
    .filter((repository) => typeof repository.full_name === "string")
    .map((repository) => ({
      value: repository.full_name,
      label: repository.private ? `${repository.full_name} (private)` : repository.full_name,
    }))
    .filter((option) => matchesQuery(option, q));
  const next = nextPageUrl(response.headers.get("link"));
  const nextPage = next === null ? null : new URL(next, GITHUB_API_URL).searchParams.get("page");
  return nextPage !== null && PAGE_CURSOR.test(nextPage) ? { options, next_cursor: nextPage } : { options };
}
