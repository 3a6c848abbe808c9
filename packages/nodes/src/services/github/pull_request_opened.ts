import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { repository } from "./params.ts";
import { at, text } from "./payload.ts";
import { pullRequestFields, pullRequestOutputs, pullRequestSample } from "./pull_request.ts";
import { repositoryEventOutputs, repositoryHookTrigger } from "./repository_hook.ts";

/** https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request */
export const pullRequestOpened: ActionDefinition = {
  key: "pull_request_opened",
  name: "Pull request opened",
  description: "Someone opens a pull request (drafts included) in a repository. AREA creates a repository webhook: " +
    "the account must be able to administer the repository's hooks.",
  params: z.object({ repository }),
  outputs: z.object({
    ...repositoryEventOutputs,
    ...pullRequestOutputs,
    created_at: z.iso.datetime().meta({ description: "When the pull request was opened (UTC)" }),
  }),
  sample: {
    repository: "octocat/hello-world",
    sender: "hubot",
    ...pullRequestSample,
    created_at: "2026-01-01T12:00:00Z",
  },
  trigger: {
    webhook: repositoryHookTrigger({
      event: "pull_request",
      action: "opened",
      outputs(payload) {
        const fields = pullRequestFields(payload);
        return fields && { ...fields, created_at: text(at(payload, "pull_request.created_at")) };
      },
    }),
  },
};
