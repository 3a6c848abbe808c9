// The star_created action's mapping of GitHub's documented `star` delivery
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#star), its filters and dedupe key.
import assert from "node:assert/strict";
import { test } from "node:test";
import { githubWebhookRequest } from "../../../../../tests/support/fakes/github.ts";
import { starCreated } from "./star_created.ts";

const DELIVERY = "8a1e4b20-e6b6-11ee-9b1c-6e7f8a9b0c1d";
const PARAMS = { repository: "Codertocat/Hello-World" };

function starPayload(action: string) {
  return {
    action,
    starred_at: action === "created" ? "2026-01-01T12:00:00Z" : null,
    repository: {
      id: 186853002,
      name: "Hello-World",
      full_name: "Codertocat/Hello-World",
      stargazers_count: 42,
      watchers_count: 42,
    },
    sender: { login: "hubot", id: 583231, type: "User", html_url: "https://github.com/hubot" },
  };
}

const events = (payload: unknown, event = "star") =>
  starCreated.trigger.webhook!.events(githubWebhookRequest({ event, payload, delivery: DELIVERY }), PARAMS);

test("a star fires once, keyed by the delivery, naming who starred and the new count", () => {
  const fired = events(starPayload("created"));
  assert.deepEqual(fired, [{
    dedupeKey: DELIVERY,
    outputs: {
      repository: "Codertocat/Hello-World",
      sender: "hubot",
      stargazer_url: "https://github.com/hubot",
      stars: 42,
      starred_at: "2026-01-01T12:00:00Z",
    },
  }]);
  assert.deepEqual(starCreated.outputs.parse(fired[0].outputs), fired[0].outputs);
});

test("an unstar and the older watch event make no event", () => {
  assert.deepEqual(events(starPayload("deleted")), []);
  // `watch` (action started) is also sent on starring; this action listens to `star` only.
  assert.deepEqual(events({ ...starPayload("created"), action: "started" }, "watch"), []);
});
