// The bench nodes do nothing, fast: any request is an event, the reaction succeeds at once.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ReactionContext, WebhookRequest } from "../../define.ts";
import { noopAction } from "./noop_action.ts";
import { noopReaction } from "./noop_reaction.ts";

function request(body: unknown, headers: Record<string, string> = {}): WebhookRequest {
  const text = JSON.stringify(body);
  return {
    method: "POST",
    headers,
    query: {},
    rawBody: new TextEncoder().encode(text),
    body,
    receivedAt: new Date(),
  };
}

test("the bench action takes any request and outputs its seq", async () => {
  const webhook = noopAction.trigger.webhook!;
  assert.equal(await webhook.verify(request({ seq: 1 }), "any secret"), true);
  assert.deepEqual(webhook.events(request({ seq: 41 }, { "x-area-delivery": "run-1/41" }), {}), [
    { dedupeKey: "run-1/41", outputs: { seq: 41 } },
  ]);
  assert.deepEqual(webhook.events(request("text"), {})[0].outputs, { seq: 0 });
});

test("the bench reaction returns ok", async () => {
  assert.deepEqual(await noopReaction.run({} as ReactionContext, {}), { ok: true });
});
