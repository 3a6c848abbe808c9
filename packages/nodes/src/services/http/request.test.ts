import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { test, type TestContext } from "node:test";
import type { ReactionContext } from "../../define.ts";
import { PermanentError } from "../../errors.ts";
import { reactionContext } from "../../../../../tests/support/node_context.ts";
import { type Received, startReceiver } from "../../../../../tests/support/receiver.ts";
import { request } from "./request.ts";
import { http } from "./service.ts";

const ctx: ReactionContext = reactionContext(http, {
  idempotencyKey: "hook-log-1:area-reaction-2",
  name: "http.request",
});

async function receiver(t: TestContext, answer: (request: Received, response: ServerResponse) => void) {
  const server = await startReceiver(answer);
  t.after(() => server.close());
  return server;
}

test("sends method, headers, the rendered body and the Idempotency-Key; records status, headers and body", async (t) => {
  const server = await receiver(t, (_, response) => {
    const headers = {
      "content-type": "application/json",
      "content-length": "11",
      "x-request-id": "r-1",
      "x-other": "no",
    };
    response.writeHead(201, headers).end('{"ok":true}');
  });
  const output = await request.run(ctx, {
    url: `${server.origin}/hook?team=a`,
    method: "PUT",
    headers: { "Content-Type": "application/json", "X-Team": "a" },
    body: '{"text":"Stream is live"}',
  });
  const [received] = server.received;
  assert.deepEqual([received.method, received.url, received.body], [
    "PUT",
    "/hook?team=a",
    '{"text":"Stream is live"}',
  ]);
  assert.equal(received.headers["content-type"], "application/json");
  assert.equal(received.headers["x-team"], "a");
  assert.equal(received.headers["idempotency-key"], "hook-log-1:area-reaction-2");
  assert.deepEqual(output, {
    status: 201,
    headers: { "content-type": "application/json", "content-length": "11", "x-request-id": "r-1" },
    body: '{"ok":true}',
    truncated: false,
  });
});

test("defaults to POST; an Idempotency-Key the user set is kept", async (t) => {
  const server = await receiver(t, (_, response) => response.writeHead(204).end());
  const output = await request.run(ctx, { url: `${server.origin}/`, headers: { "idempotency-key": "mine" } });
  assert.equal(server.received[0].method, "POST");
  assert.equal(server.received[0].headers["idempotency-key"], "mine");
  assert.deepEqual(output, { status: 204, headers: {}, body: "", truncated: false });
});

test("records at most 4096 characters of the body", async (t) => {
  for (const length of [5_000, 500_000]) {
    const server = await receiver(t, (_, response) => response.end("z".repeat(length)));
    const output = await request.run(ctx, { url: `${server.origin}/`, method: "GET" });
    assert.equal((output.body as string).length, 4096);
    assert.equal(output.truncated, true, `${length} characters`);
  }
});

test("a GET with a body, bad params and refused addresses fail permanently", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ url: "http://127.0.0.1:9/", method: "GET", body: "x" }, /a GET request cannot carry a body/],
    [{ url: "not a url" }, /invalid params/],
    [{ url: "http://10.0.0.5/hook" }, /refused address 10\.0\.0\.5 \(private network\)/],
  ];
  for (const [params, message] of cases) {
    await assert.rejects(
      request.run(ctx, params),
      (error) => error instanceof PermanentError && message.test(error.message),
    );
  }
});
