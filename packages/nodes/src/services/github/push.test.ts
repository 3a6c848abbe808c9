// The push action's mapping of GitHub's documented `push` delivery
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#push), its filters and dedupe key.
import assert from "node:assert/strict";
import { test } from "node:test";
import { githubWebhookRequest } from "../../../../../tests/support/fakes/github.ts";
import { push } from "./push.ts";

const DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
const BEFORE = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
const AFTER = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";

function commit(id: string, message: string) {
  return {
    id,
    tree_id: "f9d2a07e9488b91af2641b26b9407fe22a451433",
    distinct: true,
    message,
    timestamp: "2026-01-01T12:59:35+01:00",
    url: `https://github.com/Codertocat/Hello-World/commit/${id}`,
    author: { name: "Codertocat", email: "21031067+Codertocat@users.noreply.github.com", username: "Codertocat" },
    committer: { name: "GitHub", email: "noreply@github.com", username: "web-flow" },
    added: [],
    removed: [],
    modified: ["README.md"],
  };
}

/** A push of two commits to `ref`, shaped as GitHub documents it. */
function pushPayload(ref = "refs/heads/main", changes: Record<string, unknown> = {}) {
  const commits = [commit("a10867b14bb761a232cd80139fbd4c0d33264240", "Update README"), commit(AFTER, "Fix typo")];
  return {
    ref,
    before: BEFORE,
    after: AFTER,
    repository: {
      id: 186853002,
      name: "Hello-World",
      full_name: "Codertocat/Hello-World",
      private: false,
      owner: { name: "Codertocat", login: "Codertocat", id: 21031067 },
      html_url: "https://github.com/Codertocat/Hello-World",
      default_branch: "main",
      created_at: 1557933565,
      pushed_at: 1557933657,
    },
    pusher: { name: "Codertocat", email: "21031067+Codertocat@users.noreply.github.com" },
    sender: { login: "Codertocat", id: 21031067, type: "User", html_url: "https://github.com/Codertocat" },
    created: false,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `https://github.com/Codertocat/Hello-World/compare/${BEFORE.slice(0, 12)}...${AFTER.slice(0, 12)}`,
    commits,
    head_commit: commits[1],
    ...changes,
  };
}

const events = (payload: unknown, params: Record<string, unknown> = { repository: "Codertocat/Hello-World" }, options: {
  event?: string;
  delivery?: string | null;
} = {}) =>
  push.trigger.webhook!.events(
    githubWebhookRequest({
      event: options.event ?? "push",
      payload,
      delivery: options.delivery === undefined ? DELIVERY : options.delivery,
    }),
    params,
  );

test("a push to a branch fires once, keyed by the delivery, with the head commit and the counts", () => {
  const fired = events(pushPayload());
  assert.deepEqual(fired, [{
    dedupeKey: DELIVERY,
    outputs: {
      repository: "Codertocat/Hello-World",
      sender: "Codertocat",
      ref: "refs/heads/main",
      branch: "main",
      before: BEFORE,
      after: AFTER,
      commit_count: 2,
      head_commit_id: AFTER,
      head_commit_message: "Fix typo",
      head_commit_url: `https://github.com/Codertocat/Hello-World/commit/${AFTER}`,
      head_commit_author: "Codertocat",
      pusher: "Codertocat",
      compare_url: "https://github.com/Codertocat/Hello-World/compare/6113728f27ae...0d1a26e67d8f",
      created: false,
      forced: false,
    },
  }]);
  assert.deepEqual(push.outputs.parse(fired[0].outputs), fired[0].outputs, "the outputs are the declared ones");
  // A redelivery keeps GitHub's GUID: the same key, stored once.
  assert.equal(events(pushPayload())[0].dedupeKey, DELIVERY);
});

test("the branch param keeps pushes to that branch only (names with slashes too)", () => {
  const params = (branch: string) => ({ repository: "Codertocat/Hello-World", branch });
  assert.equal(events(pushPayload("refs/heads/main"), params("main")).length, 1);
  assert.deepEqual(events(pushPayload("refs/heads/feature/login"), params("main")), []);
  const [feature] = events(pushPayload("refs/heads/feature/login"), params("feature/login"));
  assert.equal(feature.outputs.branch, "feature/login");
  // A longer name starting the same is another branch.
  assert.deepEqual(events(pushPayload("refs/heads/mainline"), params("main")), []);
  // Empty: every branch.
  assert.equal(events(pushPayload("refs/heads/dev"), params("")).length, 1);
});

test("tag pushes, branch deletions and other events make no event", () => {
  assert.deepEqual(events(pushPayload("refs/tags/v1.0.0")), []);
  const deletion = pushPayload("refs/heads/old", {
    after: "0000000000000000000000000000000000000000",
    deleted: true,
    commits: [],
    head_commit: null,
  });
  assert.deepEqual(events(deletion), []);
  assert.deepEqual(events(pushPayload(), undefined, { event: "create" }), []);
  assert.deepEqual(events({ zen: "Keep it logically awesome." }, undefined, { event: "ping" }), []);
});

test("a new branch and a forced push say so; a push without a head commit still fires", () => {
  const [created] = events(pushPayload("refs/heads/topic", { created: true, forced: true }));
  assert.deepEqual([created.outputs.created, created.outputs.forced], [true, true]);
  // A branch created at an existing commit carries no commits.
  const [empty] = events(pushPayload("refs/heads/topic", { created: true, commits: [], head_commit: null }));
  assert.deepEqual([empty.outputs.commit_count, empty.outputs.head_commit_id, empty.outputs.head_commit_message], [
    0,
    "",
    "",
  ]);
});

test("a delivery without X-GitHub-Delivery is still stored, under a key of its own", () => {
  const [first] = events(pushPayload(), undefined, { delivery: null });
  const [second] = events(pushPayload(), undefined, { delivery: null });
  assert.ok(first.dedupeKey && second.dedupeKey && first.dedupeKey !== second.dedupeKey);
});

test("branch names git refuses are refused, naming the rule", () => {
  const checked = push.params.safeParse({ repository: "octo/hello", branch: "my branch" });
  assert.equal(checked.success, false);
  assert.match(JSON.stringify(checked.error?.issues), /must be a branch name/);
  assert.equal(push.params.safeParse({ repository: "octo/hello", branch: "release/2.0" }).success, true);
  assert.equal(push.params.safeParse({ repository: "octo/hello" }).success, true);
});
