import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { repository } from "./params.ts";
import { at, flag, text } from "./payload.ts";
import { repositoryEventOutputs, repositoryHookTrigger } from "./repository_hook.ts";

const BRANCH_REF = "refs/heads/";

const params = z.object({
  repository,
  // Git's ref-name rules, loosely: no whitespace and none of ~ ^ : ? * [ \.
  branch: z.string().regex(/^[^\s~^:?*[\\]{0,255}$/, "must be a branch name (no spaces, none of ~ ^ : ? * [ \\)")
    .optional().meta({
      description: "Only pushes to this branch (its name, e.g. main); every branch when empty",
      placeholder: "main",
    }),
});

/** https://docs.github.com/en/webhooks/webhook-events-and-payloads#push */
export const push: ActionDefinition = {
  key: "push",
  name: "Push to a branch",
  description: "Commits are pushed to a branch of a repository (tag pushes and branch deletions do not count). " +
    "AREA creates a repository webhook: the account must be able to administer the repository's hooks.",
  params,
  outputs: z.object({
    ...repositoryEventOutputs,
    ref: z.string().meta({ description: "The full ref pushed (refs/heads/main)" }),
    branch: z.string().meta({ description: "The branch pushed (main)" }),
    before: z.string().meta({ description: "The branch's commit SHA before the push" }),
    after: z.string().meta({ description: "The branch's commit SHA after the push" }),
    commit_count: z.number().int().meta({ description: "How many commits the push carries (at most 2048 listed)" }),
    head_commit_id: z.string().meta({ description: "The SHA of the newest commit" }),
    head_commit_message: z.string().meta({ description: "The newest commit's message" }),
    head_commit_url: z.url().meta({ description: "The newest commit's page on GitHub" }),
    head_commit_author: z.string().meta({ description: "The name of the newest commit's author" }),
    pusher: z.string().meta({ description: "The name of the account that pushed" }),
    compare_url: z.url().meta({ description: "The page comparing the branch before and after the push" }),
    created: z.boolean().meta({ description: "Whether the push created the branch" }),
    forced: z.boolean().meta({ description: "Whether the push was forced (history rewritten)" }),
  }),
  sample: {
    repository: "octocat/hello-world",
    sender: "octocat",
    ref: "refs/heads/main",
    branch: "main",
    before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    after: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
    commit_count: 2,
    head_commit_id: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
    head_commit_message: "Fix the build on Windows",
    head_commit_url: "https://github.com/octocat/hello-world/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
    head_commit_author: "The Octocat",
    pusher: "octocat",
    compare_url: "https://github.com/octocat/hello-world/compare/6113728f27ae...0d1a26e67d8f",
    created: false,
    forced: false,
  },
  trigger: {
    webhook: repositoryHookTrigger({
      event: "push",
      outputs(payload, raw) {
        const ref = text(payload.ref);
        if (!ref.startsWith(BRANCH_REF) || flag(payload.deleted)) return null;
        const branch = ref.slice(BRANCH_REF.length);
        const wanted = params.safeParse(raw);
        // Params the AREA was created with always parse; if they do not, the branch filter cannot be honoured.
        if (!wanted.success || (wanted.data.branch && wanted.data.branch !== branch)) return null;
        const commits = Array.isArray(payload.commits) ? payload.commits : [];
        return {
          ref,
          branch,
          before: text(payload.before),
          after: text(payload.after),
          commit_count: commits.length,
          head_commit_id: text(at(payload, "head_commit.id")),
          head_commit_message: text(at(payload, "head_commit.message")),
          head_commit_url: text(at(payload, "head_commit.url")),
          head_commit_author: text(at(payload, "head_commit.author.name")),
          pusher: text(at(payload, "pusher.name")),
          compare_url: text(payload.compare),
          created: flag(payload.created),
          forced: flag(payload.forced),
        };
      },
    }),
  },
};
