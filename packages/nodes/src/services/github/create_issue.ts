import { z } from "zod";
import { parseParams, type ReactionDefinition } from "../../define.ts";
import { githubRequest } from "./api.ts";

const params = z.object({
  owner: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/).meta({
    description: "The repository's owner (user or organization)",
    placeholder: "octocat",
  }),
  repo: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/).meta({
    description: "The repository's name",
    placeholder: "hello-world",
  }),
  title: z.string().min(1).max(256).meta({ description: "The issue's title; {{placeholders}} are filled in" }),
  body: z.string().max(65536).optional().meta({ description: "The issue's text (Markdown)" }),
});

/** https://docs.github.com/en/rest/issues/issues#create-an-issue */
export const createIssue: ReactionDefinition = {
  key: "create_issue",
  name: "Create an issue",
  description: "Opens an issue in a repository. Needs the `repo` scope for private repositories.",
  params,
  async run(ctx, raw) {
    const { owner, repo, title, body } = parseParams(params, raw);
    const path = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/issues`;
    const response = await githubRequest(ctx, "POST", path, {
      title,
      ...(body === undefined ? {} : { body }),
    });
    const issue = await response.json() as { number?: unknown; html_url?: unknown };
    return { number: issue.number, html_url: issue.html_url };
  },
};
