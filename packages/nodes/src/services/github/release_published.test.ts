// The release_published action's mapping of GitHub's documented `release` delivery
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#release), its filters and dedupe key.
import assert from "node:assert/strict";
import { test } from "node:test";
import { githubWebhookRequest } from "../../../../../tests/support/fakes/github.ts";
import { releasePublished } from "./release_published.ts";

const DELIVERY = "5f0a7c10-e6b6-11ee-8c8f-0e1f2a3b4c5d";
const PARAMS = { repository: "Codertocat/Hello-World" };

function releasePayload(action: string, release: Record<string, unknown> = {}) {
  return {
    action,
    release: {
      url: "https://api.github.com/repos/Codertocat/Hello-World/releases/11248810",
      html_url: "https://github.com/Codertocat/Hello-World/releases/tag/0.0.1",
      id: 11248810,
      tag_name: "0.0.1",
      target_commitish: "main",
      name: "First release",
      draft: false,
      author: { login: "Codertocat", id: 21031067, type: "User" },
      prerelease: false,
      created_at: "2026-01-01T11:58:00Z",
      published_at: "2026-01-01T12:00:00Z",
      assets: [],
      body: "The first one.",
      ...release,
    },
    repository: { id: 186853002, name: "Hello-World", full_name: "Codertocat/Hello-World" },
    sender: { login: "Codertocat", id: 21031067, type: "User" },
  };
}

const events = (payload: unknown, event = "release") =>
  releasePublished.trigger.webhook!.events(githubWebhookRequest({ event, payload, delivery: DELIVERY }), PARAMS);

test("a published release fires once, keyed by the delivery, with its tag, notes and author", () => {
  const fired = events(releasePayload("published"));
  assert.deepEqual(fired, [{
    dedupeKey: DELIVERY,
    outputs: {
      repository: "Codertocat/Hello-World",
      sender: "Codertocat",
      tag_name: "0.0.1",
      name: "First release",
      body: "The first one.",
      html_url: "https://github.com/Codertocat/Hello-World/releases/tag/0.0.1",
      author: "Codertocat",
      prerelease: false,
      published_at: "2026-01-01T12:00:00Z",
    },
  }]);
  assert.deepEqual(releasePublished.outputs.parse(fired[0].outputs), fired[0].outputs);
});

test("a published pre-release fires and says so; an untitled release has an empty name", () => {
  const [event] = events(releasePayload("published", { prerelease: true, name: null, body: null }));
  assert.deepEqual([event.outputs.prerelease, event.outputs.name, event.outputs.body], [true, "", ""]);
});

test("drafts (created), edits, other events and a payload without a release make no event", () => {
  for (const action of ["created", "edited", "released", "prereleased", "unpublished", "deleted"]) {
    assert.deepEqual(events(releasePayload(action)), [], action);
  }
  assert.deepEqual(events(releasePayload("published"), "create"), []);
  assert.deepEqual(events({ action: "published" }), []);
});
