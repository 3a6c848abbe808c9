// Registration of the github webhook actions (a repository hook per AREA), checked at the fake GitHub,
// and what every github webhook action shares.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { NodeContext, WebhookRegistration } from "../../define.ts";
import { AuthError, PermanentError, RetryableError } from "../../errors.ts";
import { githubWebhookRequest } from "../../../../../tests/support/fakes/github.ts";
import { nodeContext } from "../../../../../tests/support/node_context.ts";
import { sendJson, startReceiver } from "../../../../../tests/support/receiver.ts";
import { push } from "./push.ts";
import { github } from "./service.ts";
import { connected, fakeGithub, TOKEN } from "./test_support.ts";

const SECRET = "whsec-0123456789abcdef";
const ENDPOINT = "https://area.example.org/functions/v1/webhooks/github/6f1c0b7e-7d1a-4c55-9a53-0d6a3c1f2e10";

function registration(overrides: Partial<WebhookRegistration> = {}): WebhookRegistration {
  return { params: { repository: "octo/hello" }, endpoint: ENDPOINT, secret: SECRET, ...overrides };
}

const webhookOf = (key: string) => github.actions.find((action) => action.key === key)!.trigger.webhook!;
const subscribe = (ctx: NodeContext, key = "push", overrides: Partial<WebhookRegistration> = {}) =>
  webhookOf(key).subscribe!(ctx, registration(overrides));
const unsubscribe = (ctx: NodeContext, subscriptionId: string, params: Record<string, unknown> = {}) =>
  push.trigger.webhook!.unsubscribe!(ctx, { params, endpoint: "", secret: "", subscriptionId });

test("subscribe creates a JSON repository hook for the action's event, signed with the AREA's secret", async (t) => {
  const server = await fakeGithub(t);
  const { subscriptionId } = await subscribe(connected(server), "pull_request_merged");
  const [hook] = server.hooks;
  assert.equal(subscriptionId, `octo/hello/hooks/${hook.id}`, "the repository travels with the id to unsubscribe");
  const [request] = server.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.url, "/repos/octo/hello/hooks");
  assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(request.headers["x-github-api-version"], "2022-11-28");
  assert.deepEqual(JSON.parse(request.body), {
    events: ["pull_request"],
    active: true,
    config: { url: ENDPOINT, content_type: "json", secret: SECRET, insecure_ssl: "0" },
  });
  assert.deepEqual([hook.repository, hook.events, hook.active, hook.config.secret], [
    "octo/hello",
    ["pull_request"],
    true,
    SECRET,
  ]);
});

test("each action subscribes to its own GitHub event", async (t) => {
  const server = await fakeGithub(t);
  const expected: Record<string, string> = {
    push: "push",
    issue_opened: "issues",
    pull_request_opened: "pull_request",
    pull_request_merged: "pull_request",
    release_published: "release",
    star_created: "star",
  };
  assert.deepEqual(github.actions.map((action) => action.key), Object.keys(expected));
  for (const [key, event] of Object.entries(expected)) {
    assert.equal(webhookOf(key).requiresRegistration, true, key);
    await subscribe(connected(server), key, { endpoint: `${ENDPOINT}/${key}` });
    assert.deepEqual(server.hooks.at(-1)!.events, [event], key);
  }
});

test("what GitHub delivers to the hook it was given verifies and fires", async (t) => {
  const server = await fakeGithub(t);
  const receiver = await startReceiver((_, response) => response.writeHead(202).end());
  t.after(() => receiver.close());
  const endpoint = `${receiver.origin}/functions/v1/webhooks/github/hook-1`;
  await subscribe(connected(server), "push", { endpoint });

  const deliveries = await server.deliver("octo/hello", "push", {
    ref: "refs/heads/main",
    before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    after: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
    commits: [{ id: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", message: "Fix" }],
    head_commit: { id: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", message: "Fix" },
    repository: { full_name: "octo/hello" },
    sender: { login: "ada" },
  });
  assert.deepEqual(deliveries.map((delivery) => delivery.status), [202]);
  const [received] = receiver.received;
  const request = {
    method: received.method,
    headers: received.headers as Record<string, string>,
    query: {},
    rawBody: new TextEncoder().encode(received.body),
    body: JSON.parse(received.body),
    receivedAt: new Date(),
  };
  const trigger = push.trigger.webhook!;
  assert.equal(await trigger.verify(request, SECRET), true);
  assert.equal(await trigger.verify(request, "another secret"), false);
  const [event] = trigger.events(request, { repository: "octo/hello" });
  assert.equal(event.dedupeKey, received.headers["x-github-delivery"]);
  assert.deepEqual([event.outputs.branch, event.outputs.commit_count, event.outputs.sender], ["main", 1, "ada"]);
});

test("a hook that already exists (an earlier attempt's answer lost) is found across pages and reused", async (t) => {
  const server = await fakeGithub(t);
  // 150 other hooks first: ours is on the second page of 100.
  for (let i = 0; i < 150; i++) server.addHook("octo/hello", { url: `https://ci.example.org/${i}`, events: ["push"] });
  const earlier = server.addHook("octo/hello", { url: ENDPOINT, events: ["push"], secret: "stale", active: false });

  const { subscriptionId } = await subscribe(connected(server));

  assert.equal(subscriptionId, `octo/hello/hooks/${earlier.id}`);
  const calls = server.requests.map((request) => `${request.method} ${request.url.replace(/\?.*/, "")}`);
  assert.equal(calls.length, 4);
  assert.deepEqual(calls.slice(0, 2), ["POST /repos/octo/hello/hooks", "GET /repos/octo/hello/hooks"]);
  // The Link header's next page, followed as GitHub wrote it (the repository named by its id).
  assert.match(calls[2], /^GET \/repositories\/\d+\/hooks$/);
  assert.equal(calls[3], `PATCH /repos/octo/hello/hooks/${earlier.id}`);
  assert.equal(new URL(server.requests[1].url, server.origin).searchParams.get("per_page"), "100");
  assert.equal(new URL(server.requests[2].url, server.origin).searchParams.get("page"), "2");
  assert.equal(server.requests[2].headers.authorization, `Bearer ${TOKEN}`);
  // Reused as this registration wants it: active, this secret, this event.
  assert.deepEqual([earlier.active, earlier.config.secret, earlier.events], [true, SECRET, ["push"]]);
  assert.equal(server.hooks.length, 151, "no second hook");
});

test("GitHub's other refusals of the hook are permanent", async (t) => {
  const server = await fakeGithub(t);
  await assert.rejects(
    subscribe(connected(server), "push", { endpoint: "not a url" }),
    (error) => error instanceof PermanentError && !(error instanceof AuthError) && error.status === 422,
  );
  await assert.rejects(
    subscribe(connected(server), "push", { params: { repository: "octo/missing" } }),
    (error) => error instanceof PermanentError && error.status === 404,
  );
  assert.equal(server.requests.filter((request) => request.method === "GET").length, 0, "no hook search");
  assert.equal(server.hooks.length, 0);
});

test("a duplicate GitHub reports but no listed hook calls our URL is a permanent error", async (t) => {
  // GitHub matched a hook the listing no longer shows (deleted meanwhile): nothing to reuse.
  const github422 = await startReceiver((request, response) =>
    request.method === "POST"
      ? sendJson(response, 422, {
        message: "Validation Failed",
        errors: [{ resource: "Hook", code: "custom", message: "Hook already exists on this repository" }],
        documentation_url: "https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook",
      })
      : sendJson(response, 200, [{ id: 1, config: { url: "https://ci.example.org/other" } }])
  );
  t.after(() => github422.close());
  const ctx = nodeContext(github, {
    credentials: { access_token: TOKEN },
    env: { GITHUB_API_URL: github422.origin },
  });
  await assert.rejects(
    push.trigger.webhook!.subscribe!(ctx, registration()),
    (error) => error instanceof PermanentError && /no hook of \/repos\/octo\/hello\/hooks calls/.test(error.message),
  );
  assert.deepEqual(github422.received.map((request) => request.method), ["POST", "GET"]);
});

test("a repository that is not owner/name is refused before any request, naming the rule", async (t) => {
  const server = await fakeGithub(t);
  for (const repository of ["octo", "octo/hello/extra", "octo/..", "-octo/hello", "", 42]) {
    await assert.rejects(
      subscribe(connected(server), "push", { params: { repository } }),
      (error) => error instanceof PermanentError && /repository/.test(error.message),
      String(repository),
    );
  }
  await assert.rejects(
    subscribe(connected(server), "push", { params: { repository: "octo/.." } }),
    /must be "owner\/name"/,
  );
  assert.equal(server.requests.length, 0);
});

test("refused credentials are an AuthError; rate limits are retryable", async (t) => {
  const server = await fakeGithub(t);
  await assert.rejects(
    subscribe(connected(server, "gho_revoked")),
    (error) => error instanceof AuthError && error.status === 401 && /Bad credentials/.test(error.message),
  );
  server.rateLimit({ status: 429, retryAfter: 30 });
  await assert.rejects(
    subscribe(connected(server)),
    (error) => error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 30,
  );
  server.rateLimit({ status: 403 });
  await assert.rejects(
    subscribe(connected(server)),
    (error) => error instanceof RetryableError && error.status === 403 && error.retryAfterSeconds === 60,
  );
  // A rate limit while searching for the existing hook (after GitHub's 422) is retryable too.
  server.addHook("octo/hello", { url: ENDPOINT, events: ["push"] });
  const before = server.requests.length;
  server.rateLimit({ status: 429, retryAfter: 5, after: 1 });
  await assert.rejects(
    subscribe(connected(server)),
    (error) => error instanceof RetryableError && error.status === 429,
  );
  assert.deepEqual(server.requests.slice(before).map((request) => request.method), ["POST", "GET"]);
  assert.equal(server.hooks.length, 1);
});

test("unsubscribe deletes the hook named by the subscription id, even once the AREA's params are gone", async (t) => {
  const server = await fakeGithub(t);
  const { subscriptionId } = await subscribe(connected(server));
  const [hook] = server.hooks;
  await unsubscribe(connected(server), subscriptionId);
  const request = server.requests.at(-1)!;
  assert.deepEqual([request.method, request.url], ["DELETE", `/repos/octo/hello/hooks/${hook.id}`]);
  assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(server.hooks.length, 0);
});

test("a hook already gone (404) is unsubscribed; a bare hook id uses the params' repository", async (t) => {
  const server = await fakeGithub(t);
  await unsubscribe(connected(server), "octo/hello/hooks/999");
  assert.equal(server.requests.at(-1)!.url, "/repos/octo/hello/hooks/999");
  const hook = server.addHook("octo/hello", { url: ENDPOINT });
  await unsubscribe(connected(server), String(hook.id), { repository: "octo/hello" });
  assert.equal(server.requests.at(-1)!.url, `/repos/octo/hello/hooks/${hook.id}`);
  assert.equal(server.hooks.length, 0);
  await assert.rejects(unsubscribe(connected(server), "12"), /repository/, "a bare id needs the params");
  await assert.rejects(unsubscribe(connected(server), "../hooks/12"), PermanentError);
});

test("unsubscribe: refused credentials are an AuthError, rate limits retryable, the hook kept", async (t) => {
  const server = await fakeGithub(t);
  const { subscriptionId } = await subscribe(connected(server));
  await assert.rejects(unsubscribe(connected(server, "gho_revoked"), subscriptionId), AuthError);
  server.rateLimit({ status: 429, retryAfter: 30 });
  await assert.rejects(
    unsubscribe(connected(server), subscriptionId),
    (error) => error instanceof RetryableError && error.retryAfterSeconds === 30,
  );
  assert.equal(server.hooks.length, 1);
});

test("every github action: GitHub's ping is answered, other events make nothing, the sample fits the outputs", () => {
  const ping = githubWebhookRequest({ event: "ping", payload: { zen: "Design for failure.", hook_id: 1 } });
  for (const action of github.actions) {
    const webhook = action.trigger.webhook!;
    assert.equal(webhook.handshake!(ping)?.status, 200, action.key);
    assert.deepEqual(webhook.events(ping, { repository: "octo/hello" }), [], action.key);
    assert.deepEqual(action.outputs.parse(action.sample), action.sample, action.key);
    assert.ok(Object.keys(action.outputs.shape).slice(0, 2).join() === "repository,sender", action.key);
  }
});
