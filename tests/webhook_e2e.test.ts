// Flow 2 end to end: a signed webhook POST through the gateway runs its AREA on the stack's real
// worker (the http reaction reaches a local receiver); and while the database is unreachable the
// webhooks function answers 503 with Retry-After, never a 2xx for an event it did not store.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import pg from "pg";
import { root } from "../scripts/lib/database.ts";
import { waitForHttp } from "../scripts/lib/processes.ts";
import { freePort, gatewayArgs } from "../scripts/lib/stack.ts";
import { signedWebhookHeaders, waitFor, webhookToHttpArea } from "../scripts/lib/areas.ts";
import { startReceiver } from "./support/receiver.ts";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
after(() => pool.end());

const functionsUrl = process.env.FUNCTIONS_URL;

/** A generic-webhook AREA whose http reaction POSTs `{"text": "{{body.text}}"}` to `url`. */
async function webhookArea(url: string) {
  const { area, secret } = await webhookToHttpArea(pool, {
    name: "Webhook end to end",
    url,
    body: '{"text": "{{body.text}}"}',
  });
  return { hookJobId: area.hook.id, secret };
}

function deliver(base: string, hook: { hookJobId: string; secret: string }, body: string, delivery?: string) {
  return fetch(`${base}/webhooks/webhook/${hook.hookJobId}`, {
    method: "POST",
    headers: { ...signedWebhookHeaders(hook.secret, body), ...(delivery ? { "x-area-delivery": delivery } : {}) },
    body,
    signal: AbortSignal.timeout(15_000),
  });
}

test("a signed webhook runs its AREA: the reaction gets the rendered body, execution_logs say success", async () => {
  assert.ok(functionsUrl, "FUNCTIONS_URL is not set: run through npm test");
  const receiver = await startReceiver((_, response) => response.writeHead(200).end("ok"));
  try {
    const hook = await webhookArea(`${receiver.origin}/incoming`);
    const response = await deliver(functionsUrl, hook, JSON.stringify({ text: "hello from a provider" }));
    assert.equal(response.status, 202);
    const { events: [{ hook_log_id: hookLogId }] } = await response.json() as { events: { hook_log_id: string }[] };

    const rows = await waitFor("the event to be executed", async () => {
      const { rows } = await pool.query<{ reaction: string | null; status: string; processed: boolean }>(
        `select e.area_reaction_id as reaction, e.status, l.processed
         from public.hook_logs l join public.execution_logs e on e.hook_log_id = l.id
         where l.id = $1 order by e.area_reaction_id nulls first`,
        [hookLogId],
      );
      return rows[0]?.processed ? rows : undefined;
    });
    assert.deepEqual(rows.map((row) => [row.reaction === null ? "action" : "reaction", row.status]), [
      ["action", "success"],
      ["reaction", "success"],
    ]);

    assert.equal(receiver.received.length, 1);
    const [call] = receiver.received;
    assert.equal(call.method, "POST");
    assert.equal(call.url, "/incoming");
    assert.deepEqual(JSON.parse(call.body), { text: "hello from a provider" });
    assert.equal(call.headers["idempotency-key"], `${hookLogId}:${rows[1].reaction}`);
  } finally {
    await receiver.close();
  }
});

/** A TCP relay to the database that can be cut (every connection dropped, port closed) and restored. */
async function startRelay(target: URL, port: number) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const open = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
  };
  await open();
  return {
    open,
    async cut() {
      const closed = new Promise((resolve) => server!.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

test("while the database is unreachable the function answers 503 with Retry-After and stores nothing", async () => {
  assert.ok(process.env.DATABASE_URL, "DATABASE_URL is not set: run through npm test");
  const database = new URL(process.env.DATABASE_URL);
  const relayPort = await freePort();
  const relay = await startRelay(database, relayPort);
  const viaRelay = new URL(database);
  viaRelay.port = String(relayPort);

  // A second gateway serving the same functions, its database reached through the relay.
  const port = await freePort();
  const gateway: ChildProcess = spawn("deno", gatewayArgs(port, join(root, "supabase")), {
    env: { ...process.env, SUPABASE_DB_URL: viaRelay.href },
    stdio: "ignore",
  });
  const base = `http://127.0.0.1:${port}/functions/v1`;
  try {
    await waitForHttp(`${base}/api/health`, { name: "gateway", child: gateway });
    const hook = await webhookArea("https://example.org/never-called");
    const unseen = await webhookArea("https://example.org/never-called");

    const before = await deliver(base, hook, JSON.stringify({ text: "before" }));
    assert.equal(before.status, 202, "the hook is known (and cached) while the database answers");
    await before.body?.cancel();

    await relay.cut();
    const delivery = `down-${randomUUID()}`;
    const body = JSON.stringify({ text: "while down" });
    for (const target of [hook, unseen]) {
      const response = await deliver(base, target, body, delivery);
      assert.equal(response.status, 503, "a cached hook fails at the ingest, an unseen one at the lookup");
      assert.equal(response.headers.get("retry-after"), "5");
      const answer = await response.json() as { error: { code: string; message: string } };
      assert.equal(answer.error.code, "database_unavailable");
      assert.match(answer.error.message, /same X-Area-Delivery id/);
    }
    const stored = await pool.query("select 1 from public.hook_logs where dedupe_key = $1", [delivery]);
    assert.equal(stored.rowCount, 0);

    // The sender's retry, once the database is back, is stored once.
    await relay.open();
    const retried = await waitFor("the function to reach the database again", async () => {
      const response = await deliver(base, hook, body, delivery);
      if (response.status === 503) {
        await response.body?.cancel();
        return undefined;
      }
      return response;
    });
    assert.equal(retried.status, 202);
    await retried.body?.cancel();
    const after = await pool.query("select 1 from public.hook_logs where dedupe_key = $1", [delivery]);
    assert.equal(after.rowCount, 1);
  } finally {
    gateway.kill("SIGTERM");
    if (gateway.exitCode === null) await once(gateway, "exit");
    await relay.cut().catch(() => {});
  }
});
