// The execution engine end to end with the stack's real worker process: events stored through
// private.ingest_event() (one event of private.ingest_events, which the webhooks function and the
// poller store events with) run their AREA, HTTP reactions reach local receivers, and
// execution_logs tells what happened.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import pg from "pg";
import { createArea, createUser, waitFor } from "../scripts/lib/areas.ts";
import { type Received, startReceiver } from "./support/receiver.ts";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
after(() => pool.end());

const webhookAction = { service: "webhook", name: "received" };
const post = (url: string, body = "{{body.text}}", extra: Record<string, unknown> = {}) => ({
  service: "http",
  name: "request",
  params: { url, method: "POST", body },
  ...extra,
});

async function ingest(hookJobId: string, dedupeKey: string, outputs: unknown): Promise<string> {
  const { rows: [{ result }] } = await pool.query("select private.ingest_event($1, $2, $3) as result", [
    hookJobId,
    dedupeKey,
    JSON.stringify(outputs),
  ]);
  assert.equal(result.status, "accepted");
  return result.hook_log_id;
}

interface ExecutionRow {
  reaction: number | null;
  status: string;
  attempt: number;
  error_text: string | null;
  response_payload: Record<string, unknown> | null;
}

/** The event's execution rows once the event is processed: the action row (reaction null) first. */
function settledExecution(hookLogId: string, timeoutMs?: number): Promise<ExecutionRow[]> {
  return waitFor(`event ${hookLogId} to be processed`, async () => {
    const { rows } = await pool.query<ExecutionRow & { processed: boolean }>(
      `select ar.position as reaction, e.status, e.attempt, e.error_text, e.response_payload, l.processed
       from public.hook_logs l
       join public.execution_logs e on e.hook_log_id = l.id
       left join public.area_reactions ar on ar.id = e.area_reaction_id
       where l.id = $1 order by ar.position nulls first`,
      [hookLogId],
    );
    return rows[0]?.processed ? rows.map(({ processed: _, ...row }) => row) : undefined;
  }, timeoutMs);
}

const text = (request: Received) => request.body;

test("an event runs its reactions in order with rendered params and an Idempotency-Key", async () => {
  const receiver = await startReceiver((_, response) => response.writeHead(200).end("thanks"));
  try {
    const user = await createUser(pool);
    const area = await createArea(pool, user, {
      name: "Two calls",
      action: webhookAction,
      reactions: [post(`${receiver.origin}/first`, "first: {{body.text}}"), post(`${receiver.origin}/second`)],
    });
    const hookLogId = await ingest(area.hook.id, "e-1", { body: { text: "hello" }, headers: {}, query: {} });
    const rows = await settledExecution(hookLogId);
    assert.deepEqual(rows.map((row) => [row.reaction, row.status, row.attempt]), [
      [null, "success", 1],
      [0, "success", 1],
      [1, "success", 1],
    ]);
    assert.deepEqual(receiver.received.map((request) => [request.url, text(request)]), [
      ["/first", "first: hello"],
      ["/second", "hello"],
    ]);
    assert.equal(rows[1].response_payload?.status, 200);
    assert.equal(rows[1].response_payload?.body, "thanks");
    const keys = receiver.received.map((request) => request.headers["idempotency-key"]);
    assert.equal(new Set(keys).size, 2, "one key per (event, reaction)");
    assert.ok(keys.every((key) => String(key).startsWith(`${hookLogId}:`)));
    // The worker adds counters up and writes them once a second.
    await waitFor("the AREA's run counter", async () => {
      const { rows: [counted] } = await pool.query("select triggered_count from public.areas where id = $1", [area.id]);
      return Number(counted.triggered_count) === 1;
    }, 5_000);
  } finally {
    await receiver.close();
  }
});

test("a retry after a failure between two reactions does not run the first one again", async () => {
  let failuresLeft = 1;
  const receiver = await startReceiver((request, response) => {
    if (request.url === "/second" && failuresLeft-- > 0) return response.writeHead(500).end("down");
    response.writeHead(200).end("ok");
  });
  try {
    const area = await createArea(pool, await createUser(pool), {
      name: "Retry",
      action: webhookAction,
      reactions: [post(`${receiver.origin}/first`), post(`${receiver.origin}/second`)],
    });
    const hookLogId = await ingest(area.hook.id, "e-1", { body: { text: "once" } });
    const rows = await settledExecution(hookLogId, 60_000);
    assert.deepEqual(rows.map((row) => [row.reaction, row.status, row.attempt]), [
      [null, "success", 2],
      [0, "success", 1],
      [1, "success", 2],
    ], "the first reaction kept its attempt-1 success; the second succeeded on attempt 2");
    assert.deepEqual(receiver.received.map((request) => request.url), ["/first", "/second", "/second"]);
    assert.equal(
      receiver.received[1].headers["idempotency-key"],
      receiver.received[2].headers["idempotency-key"],
      "the retried call carries the same Idempotency-Key",
    );
  } finally {
    await receiver.close();
  }
});

test("a 429 with Retry-After reschedules the event for then, without failing the job", async () => {
  const arrivals: number[] = [];
  const receiver = await startReceiver((_, response) => {
    arrivals.push(Date.now());
    if (arrivals.length === 1) return response.writeHead(429, { "retry-after": "2" }).end("slow down");
    response.writeHead(200).end("ok");
  });
  try {
    const area = await createArea(pool, await createUser(pool), {
      name: "Throttled",
      action: webhookAction,
      reactions: [post(receiver.origin)],
    });
    const hookLogId = await ingest(area.hook.id, "e-1", { body: { text: "later" } });
    const rows = await settledExecution(hookLogId, 60_000);
    assert.deepEqual(rows.map((row) => [row.status, row.attempt]), [["success", 2], ["success", 2]]);
    assert.equal(arrivals.length, 2);
    assert.ok(arrivals[1] - arrivals[0] >= 1_900, `waited ${arrivals[1] - arrivals[0]} ms for a Retry-After of 2 s`);
    // pg-boss marks a job completed just after its handler returns, so wait for that too.
    const states = await waitFor("both jobs to complete", async () => {
      const { rows } = await pool.query<{ state: string }>(
        "select state from pgboss.job where name = 'area.execute' and data ->> 'hookLogId' = $1 order by created_on",
        [hookLogId],
      );
      return rows.every((job) => job.state === "completed") && rows.map((job) => job.state);
    }, 10_000);
    assert.deepEqual(states, ["completed", "completed"], "rescheduled as a new job; neither failed");
  } finally {
    await receiver.close();
  }
});

test("a refused address fails the execution at once with a readable error, without retries", async () => {
  const area = await createArea(pool, await createUser(pool), {
    name: "Metadata",
    action: webhookAction,
    reactions: [post("http://169.254.169.254/latest/meta-data/")],
  });
  const hookLogId = await ingest(area.hook.id, "e-1", { body: { text: "x" } });
  const rows = await settledExecution(hookLogId);
  assert.deepEqual(rows.map((row) => [row.status, row.attempt]), [["failed", 1], ["failed", 1]]);
  assert.match(rows[1].error_text!, /169\.254\.169\.254/);
  assert.match(rows[1].error_text!, /metadata/);
  assert.match(rows[1].error_text!, /AREA_ALLOWED_HOSTS/);
});

test("continue_on_error runs the next reactions and ends in partial_success", async () => {
  const receiver = await startReceiver((request, response) => {
    response.writeHead(request.url === "/bad" ? 404 : 200).end();
  });
  try {
    const area = await createArea(pool, await createUser(pool), {
      name: "Partial",
      action: webhookAction,
      reactions: [post(`${receiver.origin}/bad`, "x", { continue_on_error: true }), post(`${receiver.origin}/good`)],
    });
    const rows = await settledExecution(await ingest(area.hook.id, "e-1", { body: { text: "x" } }));
    assert.deepEqual(rows.map((row) => [row.reaction, row.status]), [
      [null, "partial_success"],
      [0, "failed"],
      [1, "success"],
    ]);
    assert.match(rows[1].error_text!, /404/);
  } finally {
    await receiver.close();
  }
});

test("a false condition skips the reactions", async () => {
  const receiver = await startReceiver((_, response) => response.writeHead(200).end());
  try {
    const area = await createArea(pool, await createUser(pool), {
      name: "Filtered",
      condition: { "==": [{ var: "body.kind" }, "important"] },
      action: webhookAction,
      reactions: [post(receiver.origin)],
    });
    const skipped = await settledExecution(await ingest(area.hook.id, "e-1", { body: { kind: "noise" } }));
    assert.deepEqual(skipped.map((row) => row.status), ["skipped"]);
    const ran = await settledExecution(await ingest(area.hook.id, "e-2", { body: { kind: "important" } }));
    assert.deepEqual(ran.map((row) => row.status), ["success", "success"]);
    assert.equal(receiver.received.length, 1);
  } finally {
    await receiver.close();
  }
});

test("when retries run out the event lands in area.dead, visible to operators", async () => {
  const receiver = await startReceiver((_, response) => response.writeHead(500).end("always down"));
  try {
    const area = await createArea(pool, await createUser(pool), {
      name: "Doomed",
      action: webhookAction,
      reactions: [post(receiver.origin)],
    });
    // The event stored as ingest_event does, with a job whose retry budget is short (1 retry, 1 s)
    // so the test need not wait for the queue's real backoff.
    const { rows: [event] } = await pool.query(
      `insert into public.hook_logs (hook_job_id, area_id, dedupe_key, event_payload)
       values ($1, $2, 'e-1', '{"body": {"text": "x"}}') returning id`,
      [area.hook.id, area.id],
    );
    await pool.query(
      `select private.enqueue('area.execute', jsonb_build_object('hookLogId', $1::text),
                              '{"retryLimit": 1, "retryDelay": 1, "retryBackoff": false}')`,
      [event.id],
    );
    const rows = await settledExecution(event.id, 60_000);
    assert.deepEqual(rows.map((row) => [row.status, row.attempt]), [["failed", 2], ["failed", 2]]);
    const dead = await waitFor("the dead letter", async () => {
      const { rows } = await pool.query(
        "select area_id, last_error from admin.dead_executions where hook_log_id = $1",
        [
          event.id,
        ],
      );
      return rows[0];
    });
    assert.equal(dead.area_id, area.id);
    assert.match(dead.last_error, /500/);
    assert.equal(receiver.received.length, 2, "one call per attempt (a 500 is not retried within the call)");
  } finally {
    await receiver.close();
  }
});

test("a timer's first poll sets the baseline; the next slot fires with the count", async () => {
  const receiver = await startReceiver((_, response) => response.writeHead(200).end());
  try {
    const area = await createArea(pool, await createUser(pool), {
      name: "Ticking",
      action: { service: "timer", name: "every_interval", params: { seconds: 5 } },
      reactions: [post(receiver.origin, "tick {{count}}")],
    });
    const baseline = await waitFor("the baseline poll", async () => {
      const { rows } = await pool.query(
        "select state_value from public.hook_states where hook_job_id = $1 and state_key = 'cursor'",
        [area.hook.id],
      );
      return rows[0];
    });
    assert.ok(baseline, "the baseline poll stored a cursor");
    assert.equal(receiver.received.length, 0, "and fired nothing");
    await waitFor("the first tick", () => Promise.resolve(receiver.received[0]), 20_000);
    assert.equal(receiver.received[0].body, "tick 1");
    await pool.query("update public.areas set enabled = false where id = $1", [area.id]);
  } finally {
    await receiver.close();
  }
});
