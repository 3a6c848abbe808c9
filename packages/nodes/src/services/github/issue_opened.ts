import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { jsonObject } from "../../json.ts";
import { repository } from "./params.ts";
import { at, text, whole } from "./payload.ts";
import { repositoryEventOutputs, repositoryHookTrigger } from "./repository_hook.ts";

/** https://docs.github.com/en/webhooks/webhook-events-and-payloads#issues */
export const issueOpened: ActionDefinition = {
  key: "issue_opened",
  name: "Issue opened",
  description: "Someone opens an issue in a repository. AREA creates a repository webhook: the account must be able " +
    "to administer the repository's hooks.",
  params: z.object({ repository }),
  outputs: z.object({
    ...repositoryEventOutputs,
    number: z.number().int().meta({ description: "The issue's number" }),
    title: z.string().meta({ description: "The issue's title" }),
    body: z.string().meta({ description: "The issue's text (Markdown; empty when there is none)" }),
    html_url: z.url().meta({ description: "The issue's page on GitHub" }),
    author: z.string().meta({ description: "The login of the issue's author" }),
    labels: z.array(z.string()).meta({ description: "The names of the issue's labels" }),
    created_at: z.iso.datetime().meta({ description: "When the issue was opened (UTC)" }),
  }),
  sample: {
    repository: "octocat/hello-world",
    sender: "hubot",
    number: 1347,
    title: "Found a bug",
    body: "I'm having a problem with this.",
    html_url: "https://github.com/octocat/hello-world/issues/1347",
    author: "hubot",
    labels: ["bug"],
    created_at: "2026-01-01T12:00:00Z",
  },
  trigger: {
    webhook: repositoryHookTrigger({
      event: "issues",
      action: "opened",
      outputs(payload) {
        const issue = jsonObject(payload.issue);
        if (!issue) return null;
        const labels = Array.isArray(issue.labels) ? issue.labels : [];
        return {
          number: whole(issue.number),
          title: text(issue.title),
          body: text(issue.body),
          html_url: text(issue.html_url),
          author: text(at(issue, "user.login")),
          labels: labels.map((label) => text(at(label, "name"))).filter((name) => name !== ""),
          created_at: text(issue.created_at),
        };
      },
    }),
  },
};
