import { z } from "zod";
import { parseParams, type ReactionDefinition } from "../../define.ts";
import { readJson } from "../../fetch.ts";
import { githubRequest } from "./api.ts";
import { repository, repositoryPath } from "./params.ts";

const params = z.object({
  repository,
  title: z.string().min(1).max(256).meta({ description: "The issue's title; {{placeholders}} are filled in" }),
  body: z.string().max(65536).optional().meta({ description: "The issue's text (Markdown)" }),
});

/**
 * https://docs.github.com/en/rest/issues/issues#create-an-issue
 *
 * GitHub takes no idempotency key. The node fetch never re-sends this POST itself, so a duplicate needs
 * GitHub to have created the issue and its answer to be lost before a job retry: accepted, as comment.ts
 * accepts it for comments.
 */
export const createIssue: ReactionDefinition = {
  key: "create_issue",
  name: "Create an issue",
  description: "Opens an issue in a repository. Needs the `repo` scope for private repositories.",
  params,
  async run(ctx, raw) {
    const { repository: fullName, title, body } = parseParams(params, raw);
    const response = await githubRequest(ctx, "POST", `${repositoryPath(fullName)}/issues`, {
      title,
      ...(body === undefined ? {} : { body }),
    });
    const issue = await readJson<{ number?: unknown; html_url?: unknown }>(
      response,
      "GitHub answered the new issue with something else than JSON",
    );
    return { number: issue.number, html_url: issue.html_url };
  },
};
