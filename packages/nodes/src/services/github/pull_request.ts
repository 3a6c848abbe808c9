// What the pull request actions share: a pull request's outputs, read from a `pull_request` delivery.
// https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request
import { z } from "zod";
import { jsonObject } from "../../json.ts";
import { at, flag, text, whole } from "./payload.ts";

export const pullRequestOutputs = {
  number: z.number().int().meta({ description: "The pull request's number" }),
  title: z.string().meta({ description: "The pull request's title" }),
  body: z.string().meta({ description: "The pull request's description (Markdown; empty when there is none)" }),
  html_url: z.url().meta({ description: "The pull request's page on GitHub" }),
  author: z.string().meta({ description: "The login of the pull request's author" }),
  head_branch: z.string().meta({ description: "The branch with the changes" }),
  base_branch: z.string().meta({ description: "The branch the changes go into" }),
  draft: z.boolean().meta({ description: "Whether the pull request is a draft" }),
};

/** The pull request in both actions' samples. */
export const pullRequestSample = {
  number: 42,
  title: "Add a dark theme",
  body: "Closes #41.",
  html_url: "https://github.com/octocat/hello-world/pull/42",
  author: "hubot",
  head_branch: "dark-theme",
  base_branch: "main",
  draft: false,
};

/** The pull request of a delivery, or null when the payload has none. */
export function pullRequestFields(payload: Record<string, unknown>): Record<string, unknown> | null {
  const pull = jsonObject(payload.pull_request);
  if (!pull) return null;
  return {
    number: whole(pull.number),
    title: text(pull.title),
    body: text(pull.body),
    html_url: text(pull.html_url),
    author: text(at(pull, "user.login")),
    head_branch: text(at(pull, "head.ref")),
    base_branch: text(at(pull, "base.ref")),
    draft: flag(pull.draft),
  };
}
