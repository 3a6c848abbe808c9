// The webhooks function through the local gateway, as providers call it: signature, hook
// lookup, size and content checks, dedupe, and what ends up in hook_logs. AREAs are created
// with create_area() as their owner, the way clients create them.
import assert from "node:assert/strict";
import postgres from "postgres";
import { signHmacSha256 } from "../../../packages/nodes/src/hmac.ts";
import {
  type BatcherOptions,
  type Delivery,
  IngestBatcher,
  type IngestResult,
  NotStored,
  type StoreBatch,
} from "../webhooks/batcher.ts";
import { LookupCache } from "../_shared/cache.ts";

const functionsUrl = Deno.env.get("FUNCTIONS_URL");
// DATABASE_URL, not SUPABASE_DB_URL: another suite of this run points that one at a closed port.
const databaseUrl = Deno.env.get("DATABASE_URL");

const sql = postgres(databaseUrl ?? "", { max: 2, onnotice: () => {} });
Deno.test.afterAll(() => sql.end());

// The pool outlives single tests (and fetch bodies left unread by 4xx checks are fine).
function webhookTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });
}

interface Hook {
  areaId: string;
  hookJobId: string;
  secret: string;
  url: string;
}

/** A new user and an AREA created by that user with create_area(); returns create_area's result. */
async function createArea(definition: Record<string, unknown>) {
  if (!functionsUrl || !databaseUrl) {
    throw new Error("FUNCTIONS_URL and DATABASE_URL are not set: run through npm test");
  }
  return await sql.begin(async (tx) => {
    const [user] = await tx`insert into auth.users (email) values (${`webhooks-${crypto.randomUUID()}@example.com`})
                            returning id`;
    await tx`set local role authenticated`;
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: user.id, role: "authenticated" })}, true)`;
    const [{ area }] = await tx`select public.create_area(${JSON.stringify(definition)}::text::jsonb) as area`;
    return area;
  });
}

const reactions = [{
  service: "http",
  name: "request",
  params: { url: "https://example.org/hook", body: "{{body.text}}" },
}];

/** A generic-webhook AREA with an http reaction, and the secret create_area returned (shown once). */
async function createWebhookArea(enabled = true): Promise<Hook> {
  const action = { service: "webhook", name: "received", params: {} };
  const area = await createArea({ name: "Webhook test", enabled, action, reactions });
  return {
    areaId: area.id,
    hookJobId: area.hook.id,
    secret: area.webhook.secret,
    url: `${functionsUrl}/webhooks/webhook/${area.hook.id}`,
  };
}

async function sign(secret: string, body: string | Uint8Array): Promise<string> {
  return `sha256=${await signHmacSha256(secret, body)}`;
}

async function post(hook: Hook, body: string, headers: Record<string, string> = {}, url = hook.url) {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-area-signature": await sign(hook.secret, body), ...headers },
    body,
  });
}

async function hookLogs(hookJobId: string) {
  return await sql<{ id: string; dedupe_key: string; event_payload: Record<string, unknown> }[]>`
    select id, dedupe_key, event_payload from public.hook_logs where hook_job_id = ${hookJobId} order by received_at`;
}

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

webhookTest("a signed POST is stored with its outputs and answered 202 with the hook log id", async () => {
  const hook = await createWebhookArea();
  const body = JSON.stringify({ text: "hello" });
  const before = Date.now();
  const response = await post(hook, body, { "x-custom": "yes", authorization: "Bearer leak" }, `${hook.url}?ref=main`);
  assert.equal(response.status, 202);
  const answer = await response.json();
  assert.equal(answer.status, "accepted");
  assert.equal(answer.events.length, 1);
  assert.match(answer.events[0].hook_log_id, /^[0-9a-f-]{36}$/);

  const [row, ...others] = await hookLogs(hook.hookJobId);
  assert.equal(others.length, 0);
  assert.equal(row.id, answer.events[0].hook_log_id);
  const outputs = row.event_payload as {
    body: unknown;
    headers: Record<string, string>;
    query: unknown;
    received_at: string;
  };
  assert.deepEqual(outputs.body, { text: "hello" });
  assert.deepEqual(outputs.query, { ref: "main" });
  assert.equal(outputs.headers["content-type"], "application/json");
  assert.equal(outputs.headers["x-custom"], "yes");
  for (const hidden of ["x-area-signature", "authorization", "x-forwarded-for"]) {
    assert.equal(outputs.headers[hidden], undefined, `${hidden} is not an output`);
  }
  const receivedAt = Date.parse(outputs.received_at);
  assert.ok(receivedAt >= before - 1_000 && receivedAt <= Date.now() + 1_000, outputs.received_at);
  // Without X-Area-Delivery every request is its own event.
  assert.match(row.dedupe_key, /^[0-9a-f-]{36}$/);
});

webhookTest("a wrong, missing or other hook's signature is 401 and stores nothing", async () => {
  const hook = await createWebhookArea();
  const other = await createWebhookArea();
  const body = JSON.stringify({ text: "forged" });
  const attempts = [
    { "x-area-signature": "sha256=" + "0".repeat(64) },
    { "x-area-signature": "not a signature" },
    { "x-area-signature": await sign(other.secret, body) },
    { "x-area-signature": await sign(hook.secret, body + " ") },
  ];
  for (const headers of attempts) {
    const response = await post(hook, body, headers);
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), {
      error: { code: "unauthorized", message: "The request could not be authenticated" },
    });
  }
  const unsigned = await fetch(hook.url, { method: "POST", headers: { "content-type": "application/json" }, body });
  assert.equal(unsigned.status, 401);
  await unsigned.body?.cancel();
  assert.equal((await hookLogs(hook.hookJobId)).length, 0);
});

webhookTest("an unknown hook, a malformed id, another service or a polling hook is 404", async () => {
  const hook = await createWebhookArea();
  const body = "{}";
  const timer = await createArea({
    name: "Polling test",
    enabled: true,
    action: { service: "timer", name: "every_interval", params: { seconds: 3600 } },
    reactions: [{ service: "http", name: "request", params: { url: "https://example.org/hook" } }],
  });
  assert.equal(timer.hook.type, "polling");
  const urls = [
    `${functionsUrl}/webhooks/webhook/${crypto.randomUUID()}`,
    `${functionsUrl}/webhooks/webhook/not-a-uuid`,
    `${functionsUrl}/webhooks/timer/${hook.hookJobId}`,
    `${functionsUrl}/webhooks/nope/${hook.hookJobId}`,
    `${functionsUrl}/webhooks/timer/${timer.hook.id}`,
  ];
  for (const url of urls) {
    const response = await post(hook, body, {}, url);
    assert.equal(response.status, 404, url);
    assert.deepEqual(await response.json(), { error: { code: "not_found", message: "No webhook at this address" } });
  }
  assert.equal((await hookLogs(hook.hookJobId)).length, 0);
});

webhookTest("a disabled AREA's hook answers 409 hook_inactive, also after it was enabled then paused", async () => {
  const hook = await createWebhookArea(false);
  const first = await post(hook, JSON.stringify({ text: "too early" }));
  assert.equal(first.status, 409);
  const answer = await first.json();
  assert.equal(answer.error.code, "hook_inactive");
  assert.match(answer.error.message, /disabled/);

  // Enabled: accepted at once, although the hook was just cached as it was.
  await sql`update public.areas set enabled = true where id = ${hook.areaId}`;
  const enabled = await post(hook, JSON.stringify({ text: "now" }));
  assert.equal(enabled.status, 202);
  await enabled.body?.cancel();
  await sql`update public.areas set enabled = false where id = ${hook.areaId}`;
  const paused = await post(hook, JSON.stringify({ text: "paused" }));
  assert.equal(paused.status, 409);
  await paused.body?.cancel();
  assert.equal((await hookLogs(hook.hookJobId)).length, 1);
});

webhookTest("a body over 1 MiB is 413, by Content-Length or while streaming, and stores nothing", async () => {
  const hook = await createWebhookArea();
  const big = JSON.stringify({ text: "x".repeat(1024 * 1024) });
  const declared = await post(hook, big);
  assert.equal(declared.status, 413);
  assert.equal(await errorCode(declared), "payload_too_large");

  // Chunked: no Content-Length, the function stops reading past the limit.
  const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 4 * 1024 * 1024) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const streamed = await fetch(hook.url, {
    method: "POST",
    headers: { "content-type": "text/plain", "x-area-signature": "sha256=" + "0".repeat(64) },
    body: stream,
  });
  assert.equal(streamed.status, 413);
  assert.equal(await errorCode(streamed), "payload_too_large");

  // Exactly 1 MiB is fine.
  const limit = "y".repeat(1024 * 1024);
  const atLimit = await post(hook, limit, { "content-type": "text/plain" });
  assert.equal(atLimit.status, 202);
  await atLimit.body?.cancel();
  const rows = await hookLogs(hook.hookJobId);
  assert.equal(rows.length, 1);
  assert.equal((rows[0].event_payload.body as string).length, 1024 * 1024);
});

webhookTest("JSON, form-encoded and text bodies are accepted; other content types are 415", async () => {
  const hook = await createWebhookArea();
  for (const type of ["application/octet-stream", "multipart/form-data; boundary=x", "image/png"]) {
    const response = await post(hook, "{}", { "content-type": type });
    assert.equal(response.status, 415, type);
    const answer = await response.json();
    assert.equal(answer.error.code, "unsupported_media_type");
    assert.ok(answer.error.details.accepted.includes("application/json"));
  }
  assert.equal((await hookLogs(hook.hookJobId)).length, 0);

  const accepted = [
    ["application/json; charset=utf-8", '{"text":"json"}'],
    ["application/vnd.github+json", '{"text":"vendor json"}'],
    ["application/x-www-form-urlencoded", "text=form&n=1"],
    ["text/plain", "plain text"],
  ];
  for (const [type, body] of accepted) {
    const response = await post(hook, body, { "content-type": type });
    assert.equal(response.status, 202, type);
    await response.body?.cancel();
  }
  const bodies = (await hookLogs(hook.hookJobId)).map((row) => row.event_payload.body);
  assert.deepEqual(bodies, [{ text: "json" }, { text: "vendor json" }, "text=form&n=1", "plain text"]);
});

webhookTest("invalid JSON under a JSON content type is 400 once authenticated", async () => {
  const hook = await createWebhookArea();
  const response = await post(hook, '{"text": ');
  assert.equal(response.status, 400);
  assert.equal(await errorCode(response), "invalid_json");
  assert.equal((await hookLogs(hook.hookJobId)).length, 0);
});

webhookTest("the same X-Area-Delivery twice is stored once: the repeat is a 200 duplicate", async () => {
  const hook = await createWebhookArea();
  const body = JSON.stringify({ text: "once" });
  const first = await post(hook, body, { "x-area-delivery": "order-42" });
  assert.equal(first.status, 202);
  const { events: [{ hook_log_id }] } = await first.json();
  const again = await post(hook, body, { "x-area-delivery": "order-42" });
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), { status: "duplicate" });
  const rows = await hookLogs(hook.hookJobId);
  assert.deepEqual(rows.map((row) => [row.id, row.dedupe_key]), [[hook_log_id, "order-42"]]);
});

webhookTest("a secret sealed by the worker verifies like the one create_area returned", async () => {
  const hook = await createWebhookArea();
  const deadline = Date.now() + 20_000;
  while (
    (await sql`select 1 from private.hook_job_secrets where hook_job_id = ${hook.hookJobId} and key_id is not null`)
      .length === 0
  ) {
    if (Date.now() > deadline) throw new Error("the worker did not seal the webhook secret within 20 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const response = await post(hook, JSON.stringify({ text: "sealed" }));
  assert.equal(response.status, 202);
  await response.body?.cancel();
});

webhookTest("other methods are 405 with Allow: POST; CORS and request ids as every function", async () => {
  const hook = await createWebhookArea();
  for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
    const response = await fetch(hook.url, { method });
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get("allow"), "POST");
    assert.equal(await errorCode(response), "method_not_allowed");
  }
  const response = await post(hook, "{}");
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  assert.match(response.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  await response.body?.cancel();
});

webhookTest(
  "each delivery logs one line with its request id, hook, outcome and hook log id, never the secret",
  async () => {
    const localDir = Deno.env.get("AREA_LOCAL_DIR");
    if (!localDir) throw new Error("AREA_LOCAL_DIR is not set: run through npm test");
    const hook = await createWebhookArea();
    const accepted = await post(hook, JSON.stringify({ text: "logged" }));
    const { events: [{ hook_log_id }] } = await accepted.json();
    const refused = await post(hook, "{}", { "x-area-signature": "sha256=" + "0".repeat(64) });
    await refused.body?.cancel();

    const lines = async () =>
      (await Deno.readTextFile(`${localDir}/logs/gateway.log`)).split("\n").filter((line) =>
        line.includes(hook.hookJobId)
      );
    const deadline = Date.now() + 5_000;
    let deliveries: Record<string, unknown>[] = [];
    while (deliveries.length < 2 && Date.now() < deadline) {
      deliveries = (await lines()).map((line) => JSON.parse(line.slice(line.indexOf("{"))))
        .filter((entry) => entry.msg === "webhook delivery");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(deliveries.length, 2);
    assert.equal(deliveries[0].requestId, accepted.headers.get("x-request-id"));
    assert.equal(deliveries[0].outcome, "accepted");
    assert.equal(deliveries[0].hook_log_id, hook_log_id);
    assert.equal(deliveries[0].service, "webhook");
    assert.equal(deliveries[1].requestId, refused.headers.get("x-request-id"));
    assert.equal(deliveries[1].outcome, "unauthorized");
    assert.equal(deliveries[1].hook_log_id, null);
    assert.ok(!(await lines()).some((line) => line.includes(hook.secret.slice(6))), "the secret is never logged");
  },
);

Deno.test("the hook cache shares one load, keeps hits for the TTL and misses shorter, drops failures, stays bounded", async () => {
  let now = 0;
  const loads: string[] = [];
  let fail = false;
  const cache = new LookupCache<string>({
    load: (id) => {
      loads.push(id);
      if (fail) return Promise.reject(new Error("down"));
      return Promise.resolve(id.startsWith("miss") ? null : `hook ${id}`);
    },
    ttlMs: 30_000,
    missTtlMs: 5_000,
    maxEntries: 3,
    now: () => now,
  });
  assert.deepEqual(await Promise.all([cache.get("a"), cache.get("a")]), ["hook a", "hook a"]);
  assert.deepEqual(loads, ["a"]);
  now = 29_999;
  await cache.get("a");
  assert.deepEqual(loads, ["a"]);
  now = 30_000;
  await cache.get("a");
  assert.deepEqual(loads, ["a", "a"]);

  assert.equal(await cache.get("miss-1"), null);
  now += 4_999;
  await cache.get("miss-1");
  assert.equal(loads.length, 3);
  now += 1;
  await cache.get("miss-1");
  assert.equal(loads.length, 4);

  fail = true;
  await assert.rejects(cache.get("b"), /down/);
  await Promise.resolve();
  fail = false;
  assert.equal(await cache.get("b"), "hook b");
  assert.equal(loads.filter((id) => id === "b").length, 2, "a failed load is not kept");

  await cache.get("c");
  await cache.get("d");
  assert.equal(cache.size, 3);
  cache.delete("d");
  assert.equal(cache.size, 2);
});

/** A store whose calls wait until the test settles them. */
function controlledStore() {
  const calls: { batch: Delivery[]; resolve(results: IngestResult[][]): void; reject(error: unknown): void }[] = [];
  const store = (batch: Delivery[]) =>
    new Promise<IngestResult[][]>((resolve, reject) => calls.push({ batch, resolve, reject }));
  const accept = (batch: Delivery[]) =>
    batch.map((delivery) => delivery.dedupeKeys.map((key) => ({ status: "accepted" as const, hook_log_id: key })));
  return { calls, store, accept };
}

const delivery = (key: string, events = 1): Delivery => ({
  hookJobId: "h",
  dedupeKeys: Array.from({ length: events }, (_, i) => (events === 1 ? key : `${key}.${i}`)),
  outputs: Array.from({ length: events }, () => "{}"),
});
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A batcher with room for everything, but for the limits a test sets. */
function batcherFor(store: StoreBatch, limits: Partial<BatcherOptions> = {}): IngestBatcher {
  return new IngestBatcher({
    store,
    slots: 1,
    maxEvents: 10,
    maxBytes: 1_000_000,
    maxQueued: 100,
    maxQueuedBytes: 1_000_000,
    timeoutMs: 10_000,
    ...limits,
  });
}

Deno.test("the batcher sends a lone delivery at once and stores those that queue meanwhile together", async () => {
  const { calls, store, accept } = controlledStore();
  const batcher = batcherFor(store, { maxEvents: 3 });
  const first = batcher.ingest(delivery("a"));
  assert.equal(calls.length, 1, "no waiting when a slot is free");
  const queued = [batcher.ingest(delivery("b")), batcher.ingest(delivery("c", 2)), batcher.ingest(delivery("d"))];
  assert.equal(calls.length, 1);
  assert.equal(batcher.queued, 4);
  calls[0].resolve(accept(calls[0].batch));
  assert.deepEqual(await first, [{ status: "accepted", hook_log_id: "a" }]);
  await tick();
  assert.deepEqual(calls[1].batch.map((d) => d.dedupeKeys), [["b"], ["c.0", "c.1"]], "up to maxEvents per statement");
  calls[1].resolve(accept(calls[1].batch));
  await tick();
  assert.deepEqual(calls[2].batch.map((d) => d.dedupeKeys), [["d"]]);
  calls[2].resolve(accept(calls[2].batch));
  const results = await Promise.all(queued);
  assert.deepEqual(results.map((r) => r.map((e) => e.hook_log_id)), [["b"], ["c.0", "c.1"], ["d"]]);
});

Deno.test("the batcher refuses only the delivery whose data the database refused; a lost connection refuses all", async () => {
  const { calls, store, accept } = controlledStore();
  const batcher = batcherFor(store);
  const busy = batcher.ingest(delivery("busy"));
  const good = batcher.ingest(delivery("good"));
  const bad = batcher.ingest(delivery("bad"));
  calls[0].resolve(accept(calls[0].batch));
  await busy;
  await tick();
  calls[1].reject(Object.assign(new Error("invalid input"), { code: "22P02", severity: "ERROR" }));
  await tick();
  assert.deepEqual(calls.slice(2).map((call) => call.batch[0].dedupeKeys[0]), ["good", "bad"], "then one by one");
  calls[2].resolve(accept(calls[2].batch));
  calls[3].reject(Object.assign(new Error("invalid input"), { code: "22P02", severity: "ERROR" }));
  assert.deepEqual(await good, [{ status: "accepted", hook_log_id: "good" }]);
  await assert.rejects(bad, NotStored);

  const one = batcher.ingest(delivery("one"));
  const two = batcher.ingest(delivery("two"));
  const three = batcher.ingest(delivery("three"));
  calls[4].reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
  await assert.rejects(one, NotStored);
  await tick();
  calls[5].reject(Object.assign(new Error("terminating connection"), { code: "57P01", severity: "FATAL" }));
  await assert.rejects(two, NotStored);
  await assert.rejects(three, NotStored);
  assert.equal(calls.length, 6, "no retry one by one when the database itself fails");
});

Deno.test("the batcher answers a delivery that waits too long, never stores it after, and refuses when too many wait", async () => {
  const { calls, store, accept } = controlledStore();
  const batcher = batcherFor(store, { maxQueued: 3, timeoutMs: 50 });
  const stuck = assert.rejects(batcher.ingest(delivery("stuck")), /not stored within 50 ms/);
  const waiting = assert.rejects(batcher.ingest(delivery("waiting", 3)), /not stored within 50 ms/);
  await assert.rejects(batcher.ingest(delivery("extra")), NotStored, "the queue is full");
  await Promise.all([stuck, waiting]);
  assert.equal(batcher.queued, 0);
  calls[0].resolve(accept(calls[0].batch));
  await tick();
  assert.equal(calls.length, 1, "the delivery answered 503 while queued is never stored");
});

Deno.test("the batcher bounds the bytes of a statement and of what waits, not only the events", async () => {
  const { calls, store, accept } = controlledStore();
  const batcher = batcherFor(store, { maxBytes: 250, maxQueuedBytes: 400 });
  const sized = (key: string, bytes: number): Delivery => ({
    hookJobId: "h",
    dedupeKeys: [key],
    outputs: ["x".repeat(bytes)],
  });
  const busy = batcher.ingest(sized("busy", 10));
  const queued = [batcher.ingest(sized("a", 100)), batcher.ingest(sized("b", 100)), batcher.ingest(sized("c", 100))];
  await assert.rejects(
    batcher.ingest(sized("d", 150)),
    /bytes of events already wait/,
    "the waiting bytes are capped",
  );
  const small = batcher.ingest(sized("e", 50));
  calls[0].resolve(accept(calls[0].batch));
  await busy;
  await tick();
  assert.deepEqual(calls[1].batch.map((d) => d.dedupeKeys[0]), ["a", "b"], "a third 100-byte delivery would pass 250");
  calls[1].resolve(accept(calls[1].batch));
  await tick();
  assert.deepEqual(calls[2].batch.map((d) => d.dedupeKeys[0]), ["c", "e"]);
  calls[2].resolve(accept(calls[2].batch));
  await Promise.all([...queued, small]);
  // A delivery larger than a statement's cap still goes, alone.
  const large = batcher.ingest(sized("large", 300));
  assert.deepEqual(calls[3].batch.map((d) => d.dedupeKeys[0]), ["large"]);
  calls[3].resolve(accept(calls[3].batch));
  assert.deepEqual(await large, [{ status: "accepted", hook_log_id: "large" }]);
});

Deno.test("the batcher takes back the slot of a statement that never answers, after twice the timeout", async () => {
  const { calls, store, accept } = controlledStore();
  const batcher = batcherFor(store, { timeoutMs: 50 });
  const silent = assert.rejects(batcher.ingest(delivery("silent")), /not stored within 50 ms/);
  await assert.rejects(batcher.ingest(delivery("queued")), /not stored within 50 ms/);
  await silent;
  assert.equal(calls.length, 1, "the delivery that queued behind it is answered, never sent");
  await new Promise((resolve) => setTimeout(resolve, 60));
  const next = batcher.ingest(delivery("next"));
  assert.equal(calls.length, 2, "then the next delivery does not wait for the silent statement");
  calls[1].resolve(accept(calls[1].batch));
  assert.deepEqual(await next, [{ status: "accepted", hook_log_id: "next" }]);
  calls[0].resolve(accept(calls[0].batch)); // answering late changes nothing
  await tick();
  assert.equal(calls.length, 2);
});
