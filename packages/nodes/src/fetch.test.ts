// createNodeFetch over the runtime's plain fetch, against real servers on 127.0.0.1.
// Connect-time checks of resolved names are the worker's: worker/test/egress.test.ts.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { test, type TestContext } from "node:test";
import { AuthError, PermanentError, RetryableError } from "./errors.ts";
import { createNodeFetch, type NodeFetchOptions, readCapped, retryAfterSeconds } from "./fetch.ts";
import { parseAllowedHosts } from "./net.ts";
import { type Received, startReceiver } from "../../../tests/support/receiver.ts";

const loopbackAllowed = parseAllowedHosts("127.0.0.1");

function nodeFetch(overrides: Partial<NodeFetchOptions> = {}) {
  return createNodeFetch({
    fetch: globalThis.fetch,
    allowedHosts: loopbackAllowed,
    authenticates: false,
    ...overrides,
  });
}

async function receiver(t: TestContext, answer: (request: Received, response: ServerResponse) => void) {
  const started = await startReceiver(answer);
  t.after(() => started.close());
  return started;
}

/** Answers the listed statuses in turn, then 200 "ok". */
function statuses(...answers: [number, Record<string, string>?][]) {
  return (_: Received, response: ServerResponse) => {
    const [status, headers] = answers.shift() ?? [200];
    response.writeHead(status, headers).end(status === 200 ? "ok" : "try later");
  };
}

const fails =
  <E extends Error>(type: new (...args: never[]) => E, check: (error: E) => void = () => {}) => (error: unknown) => {
    assert.ok(
      error instanceof type,
      `expected ${type.name}, got ${(error as Error)?.name}: ${(error as Error)?.message}`,
    );
    check(error);
    return true;
  };

test("loopback is refused before connecting, naming the host and the rule; a listed host is called", async (t) => {
  const server = await receiver(t, (_, response) => response.end("hello"));
  const strict = nodeFetch({ allowedHosts: parseAllowedHosts(undefined) });
  await assert.rejects(
    strict(`${server.origin}/x`),
    fails(PermanentError, (error) => {
      assert.equal(
        error.message,
        "refused address 127.0.0.1 (loopback); add the host to AREA_ALLOWED_HOSTS to allow it",
      );
    }),
  );
  await assert.rejects(
    strict(`http://localhost:${server.port}/`),
    /^PermanentError: refused host localhost \(loopback\)/,
  );
  assert.equal(server.received.length, 0);

  const response = await nodeFetch()(`${server.origin}/x`);
  assert.equal(await response.text(), "hello");
});

test("only http and https URLs are called", async () => {
  for (const url of ["ftp://example.org/file", "file:///etc/passwd"]) {
    await assert.rejects(
      nodeFetch()(url),
      fails(PermanentError, (error) => assert.match(error.message, /^refused \w+: URL/)),
    );
  }
});

test("a redirect from a listed host to a refused address is refused", async (t) => {
  const server = await receiver(t, (_, response) => {
    response.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
  });
  await assert.rejects(
    nodeFetch()(`${server.origin}/`),
    fails(PermanentError, (error) => {
      assert.match(error.message, /^refused address 169\.254\.169\.254 \(cloud metadata\)/);
    }),
  );
});

test("redirects: 301/302/303 turn a POST into a GET without body, 307/308 keep both; credentials stay home", async (t) => {
  const elsewhere = await receiver(t, (_, response) => response.end("elsewhere"));
  const server = await receiver(t, (request, response) => {
    const [, status, target] = request.url.split("/");
    if (status === "landed") return response.end("landed");
    const location = target === "elsewhere" ? `${elsewhere.origin}/landed` : "/landed";
    response.writeHead(Number(status), { location }).end();
  });
  const init = {
    method: "POST",
    body: "payload",
    headers: { "content-type": "text/plain", authorization: "Bearer t" },
  };
  const expected: [number, string, string][] = [
    [301, "GET", ""],
    [302, "GET", ""],
    [303, "GET", ""],
    [307, "POST", "payload"],
    [308, "POST", "payload"],
  ];
  for (const [status, method, body] of expected) {
    server.received.length = 0;
    const response = await nodeFetch()(`${server.origin}/${status}`, init);
    assert.equal(await response.text(), "landed");
    const landed = server.received[1];
    assert.deepEqual([landed.method, landed.body], [method, body], `after ${status}`);
    assert.equal(landed.headers["content-type"], body ? "text/plain" : undefined, `content-type after ${status}`);
    assert.equal(landed.headers.authorization, "Bearer t", "same origin: credentials kept");
  }
  await nodeFetch()(`${server.origin}/307/elsewhere`, init);
  assert.deepEqual([elsewhere.received[0].method, elsewhere.received[0].body], ["POST", "payload"]);
  assert.equal(elsewhere.received[0].headers.authorization, undefined, "another origin: credentials dropped");
});

test("more than 5 redirects is a permanent failure", async (t) => {
  const server = await receiver(t, (request, response) => {
    response.writeHead(302, { location: `/${Number(request.url.slice(1)) + 1}` }).end();
  });
  await assert.rejects(
    nodeFetch()(`${server.origin}/0`),
    fails(PermanentError, (error) => {
      assert.match(error.message, /more than 5 redirects/);
    }),
  );
  assert.equal(server.received.length, 6);
});

test("a redirect from https to http is refused", async () => {
  // Stands in for an https server: the rule is decided before anything is sent to the http URL.
  const tlsServer = (url: URL) => {
    assert.equal(url.protocol, "https:", "nothing is sent in clear text");
    return Promise.resolve(new Response(null, { status: 301, headers: { location: "http://example.org/" } }));
  };
  await assert.rejects(
    nodeFetch({ fetch: tlsServer, allowedHosts: parseAllowedHosts(undefined) })("https://example.org/"),
    fails(PermanentError, (error) => assert.match(error.message, /redirected from https to http/)),
  );
});

test("a server that does not answer in time is a retryable timeout", async (t) => {
  const server = await receiver(t, () => {});
  await assert.rejects(
    nodeFetch({ timeoutMs: 300 })(`${server.origin}/slow`),
    fails(
      RetryableError,
      (error) => assert.equal(error.message, `GET 127.0.0.1:${server.port}/slow timed out after 0.3 s`),
    ),
  );
});

test("the caller's abort wins, unclassified", async (t) => {
  const server = await receiver(t, () => {});
  const controller = new AbortController();
  const reason = new Error("worker shutting down");
  setTimeout(() => controller.abort(reason), 50);
  await assert.rejects(nodeFetch({ signal: controller.signal })(`${server.origin}/`), (error) => error === reason);
});

test("429 with Retry-After: 7 is retryable after 7 s, and not retried within the call", async (t) => {
  const server = await receiver(t, statuses([429, { "retry-after": "7" }]));
  await assert.rejects(
    nodeFetch()(`${server.origin}/`),
    fails(RetryableError, (error) => {
      assert.deepEqual([error.status, error.retryAfterSeconds], [429, 7]);
    }),
  );
  assert.equal(server.received.length, 1);
});

test("503 is retried within the call when resending is safe", async (t) => {
  const get = await receiver(t, statuses([503], [503]));
  assert.equal(await (await nodeFetch()(`${get.origin}/`)).text(), "ok");
  assert.equal(get.received.length, 3);

  const keyed = await receiver(t, statuses([502]));
  const response = await nodeFetch()(`${keyed.origin}/`, { method: "POST", headers: { "idempotency-key": "k" } });
  assert.equal(response.status, 200);
  assert.equal(keyed.received.length, 2);

  const post = await receiver(t, statuses([503]));
  await assert.rejects(
    nodeFetch()(`${post.origin}/`, { method: "POST" }),
    fails(RetryableError, (error) => {
      assert.equal(error.status, 503);
    }),
  );
  assert.equal(post.received.length, 1, "a POST without an Idempotency-Key is sent once");

  const later = await receiver(t, statuses([503, { "retry-after": "30" }]));
  await assert.rejects(
    nodeFetch()(`${later.origin}/`),
    fails(RetryableError, (error) => {
      assert.equal(error.retryAfterSeconds, 30);
    }),
  );
  assert.equal(later.received.length, 1, "a long Retry-After is left to the job queue");

  const down = await receiver(t, statuses([503], [503], [503]));
  await assert.rejects(nodeFetch()(`${down.origin}/`), fails(RetryableError));
  assert.equal(down.received.length, 3, "two retries at most");
});

test("a dropped connection is retried within the call", async (t) => {
  let first = true;
  const server = await receiver(t, (_, response) => {
    if (first) {
      first = false;
      return response.socket!.destroy();
    }
    response.end("ok");
  });
  assert.equal(await (await nodeFetch()(`${server.origin}/`)).text(), "ok");
  assert.equal(server.received.length, 2);
});

test("401 is an AuthError only for a service that authenticates", async (t) => {
  const server = await receiver(t, (_, response) => response.writeHead(401).end("bad token"));
  await assert.rejects(
    nodeFetch({ authenticates: true })(`${server.origin}/`),
    fails(AuthError, (error) => {
      assert.equal(error.status, 401);
    }),
  );
  await assert.rejects(nodeFetch()(`${server.origin}/`), (error) => {
    assert.ok(error instanceof PermanentError && !(error instanceof AuthError));
    assert.equal(error.status, 401);
    return true;
  });
});

test("404 is permanent, with the status and at most 500 characters of the body", async (t) => {
  const server = await receiver(t, (_, response) => response.writeHead(404).end(`no such hook\n${"x".repeat(2000)}`));
  await assert.rejects(
    nodeFetch()(`${server.origin}/missing?token=secret`),
    fails(PermanentError, (error) => {
      assert.equal(error.status, 404);
      const prefix = `GET 127.0.0.1:${server.port}/missing answered 404: `;
      assert.equal(error.message, `${prefix}${`no such hook ${"x".repeat(2000)}`.slice(0, 500)}`);
    }),
  );
});

test("Retry-After: delta-seconds or an HTTP-date", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  const after = (value: string) => retryAfterSeconds(new Headers({ "retry-after": value }), now);
  assert.equal(after("120"), 120);
  assert.equal(after("Wed, 01 Jan 2025 00:02:00 GMT"), 120);
  assert.equal(after("Tue, 31 Dec 2024 23:00:00 GMT"), 0, "a date in the past means now");
  assert.equal(after("soon"), undefined);
  assert.equal(retryAfterSeconds(new Headers()), undefined);
});

test("readCapped stops at the cap and cancels the download", async (t) => {
  let closed!: () => void;
  const cancelled = new Promise<void>((resolve) => (closed = resolve));
  const endless = await receiver(t, (_, response) => {
    const timer = setInterval(() => response.write("y".repeat(1024)), 5);
    response.on("close", () => {
      clearInterval(timer);
      closed();
    });
  });
  const capped = await readCapped(await nodeFetch()(`${endless.origin}/`), 3000);
  assert.deepEqual([capped.text, capped.truncated, capped.bytes], ["y".repeat(3000), true, 3000]);
  await cancelled;

  const small = await receiver(t, (_, response) => response.end("ééé"));
  assert.deepEqual(await readCapped(await nodeFetch()(`${small.origin}/`), 100), {
    text: "ééé",
    truncated: false,
    bytes: 6,
  });
  const cut = await readCapped(await nodeFetch()(`${small.origin}/`), 3);
  assert.deepEqual(cut, { text: "é", truncated: true, bytes: 3 }, "a character cut by the cap is dropped");
});
