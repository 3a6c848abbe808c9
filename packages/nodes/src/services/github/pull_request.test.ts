// The pull request actions' mapping of GitHub's documented `pull_request` delivery
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request): opened, and merged
// (closed with merged true), their filters and dedupe key.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ActionDefinition } from "../../define.ts";
import { githubWebhookRequest } from "../../../../../tests/support/fakes/github.ts";
import { pullRequestMerged } from "./pull_request_merged.ts";
import { pullRequestOpened } from "./pull_request_opened.ts";

const DELIVERY = "2b8e4c1d-e6b6-11ee-8f3a-1a2b3c4d5e6f";
const PARAMS = { repository: "Codertocat/Hello-World" };
const MERGE_SHA = "c4295bd74fb0f4d3ab3a5b5a7e13d2b2f0c8a6e1";

function pullRequestPayload(action: string, pull: Record<string, unknown> = {}) {
  return {
    action,
    number: 2,
    pull_request: {
      url: "https://api.github.com/repos/Codertocat/Hello-World/pulls/2",
      id: 279147437,
      html_url: "https://github.com/Codertocat/Hello-World/pull/2",
      number: 2,
      state: "open",
      locked: false,
      title: "Update the README with new information.",
      user: { login: "Codertocat", id: 21031067, type: "User" },
      body: "This is a pretty simple change that we need to pull into main.",
      created_at: "2026-01-01T12:00:00Z",
      updated_at: "2026-01-01T12:00:00Z",
      closed_at: null,
      merged_at: null,
      merge_commit_sha: null,
      draft: false,
      head: { label: "Codertocat:changes", ref: "changes", sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821" },
      base: { label: "Codertocat:main", ref: "main", sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e" },
      merged: false,
      mergeable: null,
      merged_by: null,
      comments: 0,
      commits: 1,
      additions: 1,
      deletions: 1,
      changed_files: 1,
      ...pull,
    },
    repository: { id: 186853002, name: "Hello-World", full_name: "Codertocat/Hello-World" },
    sender: { login: "Codertocat", id: 21031067, type: "User" },
  };
}

const merged = (pull: Record<string, unknown> = {}) =>
  pullRequestPayload("closed", {
    state: "closed",
    closed_at: "2026-01-02T09:30:00Z",
    merged_at: "2026-01-02T09:30:00Z",
    merged: true,
    merged_by: { login: "octocat", id: 583231, type: "User" },
    merge_commit_sha: MERGE_SHA,
    ...pull,
  });

const events = (action: ActionDefinition, payload: unknown, event = "pull_request") =>
  action.trigger.webhook!.events(githubWebhookRequest({ event, payload, delivery: DELIVERY }), PARAMS);

const PULL_REQUEST_OUTPUTS = {
  repository: "Codertocat/Hello-World",
  number: 2,
  title: "Update the README with new information.",
  body: "This is a pretty simple change that we need to pull into main.",
  html_url: "https://github.com/Codertocat/Hello-World/pull/2",
  author: "Codertocat",
  head_branch: "changes",
  base_branch: "main",
  draft: false,
};

test("an opened pull request fires once, keyed by the delivery, with its branches and author", () => {
  const fired = events(pullRequestOpened, pullRequestPayload("opened"));
  assert.deepEqual(fired, [{
    dedupeKey: DELIVERY,
    outputs: { ...PULL_REQUEST_OUTPUTS, sender: "Codertocat", created_at: "2026-01-01T12:00:00Z" },
  }]);
  assert.deepEqual(pullRequestOpened.outputs.parse(fired[0].outputs), fired[0].outputs);
  const [draft] = events(pullRequestOpened, pullRequestPayload("opened", { draft: true, body: null }));
  assert.deepEqual([draft.outputs.draft, draft.outputs.body], [true, ""]);
});

test("opened: other actions (a merge included) and other events make no event", () => {
  for (const action of ["reopened", "edited", "synchronize", "ready_for_review", "closed"]) {
    assert.deepEqual(events(pullRequestOpened, pullRequestPayload(action)), [], action);
  }
  assert.deepEqual(events(pullRequestOpened, merged()), []);
  assert.deepEqual(events(pullRequestOpened, pullRequestPayload("opened"), "issues"), []);
  assert.deepEqual(events(pullRequestOpened, { action: "opened", number: 2 }), []);
});

test("a merged pull request fires once, with who merged it, when, and the merge commit", () => {
  const fired = events(pullRequestMerged, merged());
  assert.deepEqual(fired, [{
    dedupeKey: DELIVERY,
    outputs: {
      ...PULL_REQUEST_OUTPUTS,
      sender: "Codertocat",
      merged_by: "octocat",
      merged_at: "2026-01-02T09:30:00Z",
      merge_commit_sha: MERGE_SHA,
    },
  }]);
  assert.deepEqual(pullRequestMerged.outputs.parse(fired[0].outputs), fired[0].outputs);
});

test("merged: a pull request closed without merging, an opened one and other events make no event", () => {
  assert.deepEqual(events(pullRequestMerged, pullRequestPayload("closed", { state: "closed" })), []);
  assert.deepEqual(events(pullRequestMerged, pullRequestPayload("opened")), []);
  // `merged` true on another action (an edit after the merge) is not a merge.
  assert.deepEqual(events(pullRequestMerged, { ...merged(), action: "edited" }), []);
  assert.deepEqual(events(pullRequestMerged, merged(), "pull_request_review"), []);
});
