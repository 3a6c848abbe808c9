import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { repository } from "./params.ts";
import { at, flag, text } from "./payload.ts";
import { pullRequestFields, pullRequestOutputs, pullRequestSample } from "./pull_request.ts";
import { repositoryEventOutputs, repositoryHookTrigger } from "./repository_hook.ts";

/**
 * GitHub has no "merged" action: a merge is a `pull_request` delivery with action `closed` and
 * `pull_request.merged` true (closed unmerged: false).
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request
 */
export const pullRequestMerged: ActionDefinition = {
  key: "pull_request_merged",
  name: "Pull request merged",
  description: "A pull request is merged in a repository (closing one without merging does not count). AREA " +
    "creates a repository webhook: the account must be able to administer the repository's hooks.",
  params: z.object({ repository }),
  outputs: z.object({
    ...repositoryEventOutputs,
    ...pullRequestOutputs,
    merged_by: z.string().meta({ description: "The login of the account that merged it" }),
    merged_at: z.iso.datetime().meta({ description: "When it was merged (UTC)" }),
    merge_commit_sha: z.string().meta({ description: "The SHA of the merge commit" }),
  }),
  sample: {
    repository: "octocat/hello-world",
    sender: "octocat",
    ...pullRequestSample,
    merged_by: "octocat",
    merged_at: "2026-01-02T09:30:00Z",
    merge_commit_sha: "e5bd3914e2e596debea16f433f57875b5b90bcd6",
  },
  trigger: {
    webhook: repositoryHookTrigger({
      event: "pull_request",
      action: "closed",
      outputs(payload) {
        const fields = pullRequestFields(payload);
        if (!fields || !flag(at(payload, "pull_request.merged"))) return null;
        return {
          ...fields,
          merged_by: text(at(payload, "pull_request.merged_by.login")),
          merged_at: text(at(payload, "pull_request.merged_at")),
          merge_commit_sha: text(at(payload, "pull_request.merge_commit_sha")),
        };
      },
    }),
  },
};
