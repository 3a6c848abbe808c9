import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { repository } from "./params.ts";
import { at, text, whole } from "./payload.ts";
import { repositoryEventOutputs, repositoryHookTrigger } from "./repository_hook.ts";

/** https://docs.github.com/en/webhooks/webhook-events-and-payloads#star */
export const starCreated: ActionDefinition = {
  key: "star_created",
  name: "Repository starred",
  description: "Someone stars a repository (the sender is who starred it). AREA creates a repository webhook: the " +
    "account must be able to administer the repository's hooks.",
  params: z.object({ repository }),
  outputs: z.object({
    ...repositoryEventOutputs,
    stargazer_url: z.url().meta({ description: "The profile page of the account that starred the repository" }),
    stars: z.number().int().meta({ description: "The repository's star count, this star included" }),
    starred_at: z.iso.datetime().meta({ description: "When the star was added (UTC)" }),
  }),
  sample: {
    repository: "octocat/hello-world",
    sender: "hubot",
    stargazer_url: "https://github.com/hubot",
    stars: 1421,
    starred_at: "2026-01-01T12:00:00Z",
  },
  trigger: {
    webhook: repositoryHookTrigger({
      event: "star",
      action: "created",
      outputs: (payload) => ({
        stargazer_url: text(at(payload, "sender.html_url")),
        stars: whole(at(payload, "repository.stargazers_count")),
        starred_at: text(payload.starred_at),
      }),
    }),
  },
};
