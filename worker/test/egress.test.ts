// The worker's egress checks where sockets actually go: names by what they resolve to, at connect
// time, on every hop. Names get their addresses from a table here, the servers are real.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { PermanentError } from "@area/nodes/errors";
import { createNodeFetch } from "@area/nodes/fetch";
import { parseAllowedHosts } from "@area/nodes/net";
import { startReceiver } from "../../tests/support/receiver.ts";
import { createEgress, type Resolver } from "../src/egress.ts";

/** A resolver that knows a few names, as a DNS server under someone else's control would answer. */
function resolver(names: Record<string, string[]>): Resolver {
  return (hostname, _options, callback) => {
    const addresses = names[hostname];
    if (!addresses) {
      return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }), []);
    }
    callback(null, addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })));
  };
}

/** `names` replaces the system resolver when given. */
function setup(t: TestContext, allowed: string, names?: Record<string, string[]>) {
  const egress = createEgress({ allowedHosts: parseAllowedHosts(allowed), lookup: names && resolver(names) });
  t.after(() => egress.close());
  const nodeFetch = createNodeFetch({
    fetch: egress.fetch,
    allowedHosts: parseAllowedHosts(allowed),
    authenticates: false,
  });
  return { egress, nodeFetch };
}

async function receiver(t: TestContext) {
  const server = await startReceiver((request, response) => {
    if (request.url.startsWith("/to/")) {
      return response.writeHead(302, { location: `http://${request.url.slice(4)}` }).end();
    }
    response.end("ok");
  });
  t.after(() => server.close());
  return server;
}

const refused = (message: string) => (error: unknown) => {
  assert.ok(error instanceof PermanentError, `expected PermanentError, got ${(error as Error)?.name}`);
  assert.equal(error.message, message);
  return true;
};

test("a name resolving to loopback is refused at connect time, permanently and without retries", async (t) => {
  const server = await receiver(t);
  const { nodeFetch } = setup(t, "", { "hooks.example": ["127.0.0.1"] });
  await assert.rejects(
    nodeFetch(`http://hooks.example:${server.port}/`),
    refused(
      "refused address 127.0.0.1 for host hooks.example (loopback); add the host to AREA_ALLOWED_HOSTS to allow it",
    ),
  );
  assert.equal(server.received.length, 0);
});

test("one private address among public ones refuses the name (rebinding)", async (t) => {
  const { nodeFetch } = setup(t, "", { "rebind.example": ["93.184.215.14", "10.0.0.5"] });
  await assert.rejects(
    nodeFetch("http://rebind.example/"),
    refused(
      "refused address 10.0.0.5 for host rebind.example (private network); add the host to AREA_ALLOWED_HOSTS to allow it",
    ),
  );
});

test("the egress alone refuses IP literals and refused names too", async (t) => {
  const server = await receiver(t);
  const { egress } = setup(t, "");
  for (const url of [`${server.origin}/`, `http://localhost:${server.port}/`]) {
    await assert.rejects(egress.fetch(new URL(url), {}), (error: Error) => {
      assert.ok(error.cause instanceof PermanentError, `${url}: ${error.cause}`);
      assert.match(error.cause.message, /^refused (address 127\.0\.0\.1|host localhost) \(loopback\)/);
      return true;
    });
  }
  assert.equal(server.received.length, 0);
});

test("listed names and listed addresses connect", async (t) => {
  const server = await receiver(t);
  const byName = setup(t, "hooks.internal", { "hooks.internal": ["127.0.0.1"] });
  assert.equal(await (await byName.nodeFetch(`http://hooks.internal:${server.port}/`)).text(), "ok");
  const byAddress = setup(t, "127.0.0.1", { "alias.internal": ["127.0.0.1"] });
  const init = { method: "POST", headers: { authorization: "Bearer t" }, body: "payload" };
  assert.equal(await (await byAddress.nodeFetch(`${server.origin}/sent`, init)).text(), "ok");
  const sent = server.received.at(-1)!;
  assert.deepEqual([sent.method, sent.url, sent.headers.authorization, sent.body], [
    "POST",
    "/sent",
    "Bearer t",
    "payload",
  ]);
  assert.equal(await (await byAddress.nodeFetch(`http://alias.internal:${server.port}/`)).text(), "ok");
  const systemResolver = setup(t, "localhost");
  assert.equal(await (await systemResolver.nodeFetch(`http://localhost:${server.port}/`)).text(), "ok");
  assert.equal(server.received.length, 4);
});

test("a redirect to a name resolving to a private address is refused at connect time", async (t) => {
  const server = await receiver(t);
  const { nodeFetch } = setup(t, "127.0.0.1", { "internal.example": ["10.0.0.5"] });
  await assert.rejects(
    nodeFetch(`${server.origin}/to/internal.example/admin`),
    refused(
      "refused address 10.0.0.5 for host internal.example (private network); add the host to AREA_ALLOWED_HOSTS to allow it",
    ),
  );
  assert.equal(server.received.length, 1);
});
