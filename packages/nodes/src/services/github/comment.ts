import { z } from "zod";
import { parseParams, type ReactionDefinition } from "../../define.ts";
import { readJson } from "../../fetch.ts";
import { githubRequest } from "./api.ts";
import { repository, repositoryPath } from "./params.ts";

const params = z.object({
  repository,
  // Coerced: a {{placeholder}} inside a longer text renders to a string ("42").
  number: z.coerce.number().int().min(1).meta({
    description: "The issue's or pull request's number; {{number}} from a github action fits",
    placeholder: "42",
  }),
  body: z.string().min(1).max(65536).meta({ description: "The comment (Markdown); {{placeholders}} are filled in" }),
});

/**
 * https://docs.github.com/en/rest/issues/comments#create-an-issue-comment (pull requests are issues
 * too: the same endpoint comments on their conversation).
 *
 * GitHub takes no idempotency key. The node fetch never re-sends this POST itself, so a duplicate needs
 * GitHub to have created the comment and its answer to be lost before a job retry: accepted, as
 * deduplicating would cost reading the comments on every run.
 */
export const comment: ReactionDefinition = {
  key: "comment",
  name: "Comment on an issue or pull request",
  description: "Adds a comment to an issue or a pull request. Needs the `repo` scope for private repositories.",
  params,
  async run(ctx, raw) {
    const { repository: fullName, number, body } = parseParams(params, raw);
    const response = await githubRequest(ctx, "POST", `${repositoryPath(fullName)}/issues/${number}/comments`, {
      body,
    });
    const created = await readJson<{ id?: unknown; html_url?: unknown }>(
      response,
      "GitHub answered the comment with something else than JSON",
    );
    return { id: created.id, html_url: created.html_url };
  },
};
