import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { jsonObject } from "../../json.ts";
import { repository } from "./params.ts";
import { at, flag, text } from "./payload.ts";
import { repositoryEventOutputs, repositoryHookTrigger } from "./repository_hook.ts";

/**
 * `published`: a release (or pre-release) made public; drafts send `created` only.
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#release
 */
export const releasePublished: ActionDefinition = {
  key: "release_published",
  name: "Release published",
  description: "A release or pre-release is published in a repository (saving a draft does not count). AREA " +
    "creates a repository webhook: the account must be able to administer the repository's hooks.",
  params: z.object({ repository }),
  outputs: z.object({
    ...repositoryEventOutputs,
    tag_name: z.string().meta({ description: "The release's tag (v1.0.0)" }),
    name: z.string().meta({ description: "The release's title (empty when it has none)" }),
    body: z.string().meta({ description: "The release notes (Markdown)" }),
    html_url: z.url().meta({ description: "The release's page on GitHub" }),
    author: z.string().meta({ description: "The login of the account that created the release" }),
    prerelease: z.boolean().meta({ description: "Whether it is marked as a pre-release" }),
    published_at: z.iso.datetime().meta({ description: "When it was published (UTC)" }),
  }),
  sample: {
    repository: "octocat/hello-world",
    sender: "octocat",
    tag_name: "v1.0.0",
    name: "Version 1.0",
    body: "First stable release.",
    html_url: "https://github.com/octocat/hello-world/releases/tag/v1.0.0",
    author: "octocat",
    prerelease: false,
    published_at: "2026-01-01T12:00:00Z",
  },
  trigger: {
    webhook: repositoryHookTrigger({
      event: "release",
      action: "published",
      outputs(payload) {
        const release = jsonObject(payload.release);
        if (!release) return null;
        return {
          tag_name: text(release.tag_name),
          name: text(release.name),
          body: text(release.body),
          html_url: text(release.html_url),
          author: text(at(release, "author.login")),
          prerelease: flag(release.prerelease),
          published_at: text(release.published_at),
        };
      },
    }),
  },
};
