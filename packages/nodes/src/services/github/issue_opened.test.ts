// The issue_opened action's mapping of GitHub's documented `issues` delivery
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#issues), its filters and dedupe key.
import assert from "node:assert/strict";
import { test } from "node:test";
import { githubWebhookRequest } from "../../../../../tests/support/fakes/github.ts";
import { issueOpened } from "./issue_opened.ts";

const DELIVERY = "d3f1a2c0-e6b5-11ee-9d8e-2a3b4c5d6e7f";
const PARAMS = { repository: "Codertocat/Hello-World" };

function issuesPayload(action: string, issue: Record<string, unknown> = {}) {
  return {
    action,
    issue: {
      url: "https://api.github.com/repos/Codertocat/Hello-World/issues/1",
      html_url: "https://github.com/Codertocat/Hello-World/issues/1",
      id: 444500041,
      number: 1,
      title: "Spelling error in the README file",
      user: { login: "Codertocat", id: 21031067, type: "User" },
      labels: [{ id: 1362934389, name: "bug", color: "d73a4a", default: true }, { id: 1362934390, name: "docs" }],
      state: "open",
      locked: false,
      assignees: [],
      comments: 0,
      created_at: "2026-01-01T12:00:00Z",
      updated_at: "2026-01-01T12:00:00Z",
      closed_at: null,
      author_association: "OWNER",
      body: "It looks like you accidently spelled 'commit' with two 't's.",
      ...issue,
    },
    repository: { id: 186853002, name: "Hello-World", full_name: "Codertocat/Hello-World" },
    sender: { login: "Codertocat", id: 21031067, type: "User" },
  };
}

const events = (payload: unknown, event = "issues") =>
  issueOpened.trigger.webhook!.events(githubWebhookRequest({ event, payload, delivery: DELIVERY }), PARAMS);

test("an opened issue fires once, keyed by the delivery, with its number, text, author and labels", () => {
  const fired = events(issuesPayload("opened"));
  assert.deepEqual(fired, [{
    dedupeKey: DELIVERY,
    outputs: {
      repository: "Codertocat/Hello-World",
      sender: "Codertocat",
      number: 1,
      title: "Spelling error in the README file",
      body: "It looks like you accidently spelled 'commit' with two 't's.",
      html_url: "https://github.com/Codertocat/Hello-World/issues/1",
      author: "Codertocat",
      labels: ["bug", "docs"],
      created_at: "2026-01-01T12:00:00Z",
    },
  }]);
  assert.deepEqual(issueOpened.outputs.parse(fired[0].outputs), fired[0].outputs);
});

test("an issue without a body or labels gives empty ones, not null", () => {
  const [event] = events(issuesPayload("opened", { body: null, labels: [] }));
  assert.deepEqual([event.outputs.body, event.outputs.labels], ["", []]);
});

test("other issue actions, other events and a payload without an issue make no event", () => {
  for (const action of ["edited", "closed", "reopened", "labeled", "deleted"]) {
    assert.deepEqual(events(issuesPayload(action)), [], action);
  }
  assert.deepEqual(events(issuesPayload("opened"), "pull_request"), []);
  assert.deepEqual(events({ action: "opened", repository: { full_name: "Codertocat/Hello-World" } }), []);
});
