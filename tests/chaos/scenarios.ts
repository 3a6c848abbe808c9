// The fault-injection scenarios. Each runs real worker processes against a ChaosStack, injects
// its fault, checks the delivery guarantees of DESIGN.md (every accepted event delivered; a repeat
// only when a reaction's response was lost, and then under the same Idempotency-Key) and returns
// its figures. `size` scales them: quick in `npm test`, full in `npm run chaos`.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { createArea, createUser, waitFor } from "../../scripts/lib/areas.ts";
import type { ChaosStack } from "./harness.ts";
import { answerOk, type Ledger, sendEvents, startLedger, tally, webhookArea } from "./traffic.ts";

export interface Size {
  /** Events per scenario. */
  count: number;
  /** Events per second the sender posts. */
  rate: number;
}

export const quick: Size = { count: 120, rate: 40 };
export const full: Size = { count: 3000, rate: 150 };

export type Figures = Record<string, number | string>;

/** The ledger's events in [from, to), a convenience over the seq numbers a scenario sent. */
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

async function withLedger<T>(run: (ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = await startLedger();
  try {
    return await run(ledger);
  } finally {
    await ledger.close();
  }
}

/** The receiver of the scenarios that need executions in flight: 300 ms per request. */
const slowly = async (_: number, response: ServerResponse) => {
  await sleep(300);
  answerOk(0, response);
};

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/** SIGKILL one of three workers mid-load: its jobs are retried by the others once its heartbeat stops. */
export function workerKilled(stack: ChaosStack, size: Size): Promise<Figures> {
  return withLedger(async (ledger) => {
    // The victim works alone at first, and the receiver holds every request until the kill: the
    // victim is sure to hold executions (their requests received, their answers never read) when
    // the two others join and it is killed. (Three workers from the start and a merely slow
    // receiver left the victim, now and then, holding nothing.)
    const victim = await stack.startWorker();
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    ledger.answer(async (seq, response) => {
      await released;
      await slowly(seq, response);
    });
    const area = await webhookArea(stack.pool, ledger, "Chaos: worker killed");
    const sending = sendEvents(stack.functionsUrl, area, size);
    await waitFor("the victim's first execution at the receiver", () => Promise.resolve(ledger.deliveries.size > 0));
    await stack.startWorker();
    await stack.startWorker();
    const killedAt = Date.now();
    victim.kill("SIGKILL");
    await victim.exited;
    release();
    const sent = await sending;
    const inFlightAtKill = [...sent.accepted].filter(([seq, at]) =>
      at < killedAt && !(ledger.deliveries.get(seq)?.some((delivery) =>
        delivery.at < killedAt
      ))
    ).length;
    await tally(ledger, sent.accepted.keys(), 120_000);
    // The killed worker's jobs wait for their heartbeat to time out, then for their retry's delay.
    await waitFor("every execution job of the AREA to settle", async () => {
      const { rows: [pending] } = await stack.pool.query<{ n: number }>(
        `select count(*)::int as n from pgboss.job j join public.hook_logs l on l.id = (j.data ->> 'hookLogId')::uuid
         where j.name = 'area.execute' and j.state < 'completed' and l.area_id = $1`,
        [area.id],
      );
      return pending.n === 0;
    }, 120_000);
    // Counted once they settled: a retried job whose first request had reached the receiver repeats it.
    const result = await tally(ledger, sent.accepted.keys());
    await stack.stopWorkers();
    assert.deepEqual(result.missing, [], "every accepted event is delivered");
    assert.equal(result.repeatedWithNewKey, 0, "a repeat carries the first delivery's Idempotency-Key");
    // Recovery: the killed worker's jobs are the ones retried (the receiver never fails); the last of
    // them started again this long after the kill (heartbeat timeout, then the retry's delay). Drained: every event accepted before the kill
    // delivered, the backlog the two others worked through included.
    const { rows: [retried] } = await stack.pool.query<{ jobs: number; last_start_ms: number | null }>(
      `select count(*)::int as jobs, extract(epoch from max(j.started_on)) * 1000 as last_start_ms
       from pgboss.job j join public.hook_logs l on l.id = (j.data ->> 'hookLogId')::uuid
       where j.name = 'area.execute' and j.retry_count > 0 and l.area_id = $1`,
      [area.id],
    );
    const before = [...sent.accepted].filter(([, at]) => at < killedAt).map(([seq]) => seq);
    const drainedMs = Math.max(0, ...before.map((seq) => ledger.deliveries.get(seq)![0].at - killedAt));
    assert.ok(inFlightAtKill > 0, "events were in flight when the worker was killed");
    assert.ok(retried.jobs > 0, "the killed worker's jobs were retried by the others");
    const recoveryMs = Math.round(Number(retried.last_start_ms) - killedAt);
    assert.ok(recoveryMs < 60_000, `its jobs restarted within ${recoveryMs} ms: heartbeats, not the 15-minute expiry`);
    return {
      ...counts(result),
      in_flight_at_kill: inFlightAtKill,
      jobs_retried: retried.jobs,
      recovery_ms: recoveryMs,
      drained_ms: drainedMs,
    };
  });
}

/** Postgres down for a few seconds mid-load: 503s meanwhile, workers reconnect by themselves. */
export function postgresRestarted(stack: ChaosStack, size: Size): Promise<Figures> {
  return withLedger(async (ledger) => {
    const workers = [await stack.startWorker(), await stack.startWorker()];
    const area = await webhookArea(stack.pool, ledger, "Chaos: Postgres restarted");
    const sending = sendEvents(stack.functionsUrl, area, size);
    await sleep((size.count / size.rate) * 300);
    const outage = await stack.restartPostgres(3_000);
    const sent = await sending;
    const result = await tally(ledger, sent.accepted.keys(), 120_000);
    // Both workers are the processes started before the outage, ready again without a restart.
    const readyMs = await Promise.all(workers.map((worker) => worker.waitReady(60_000)));
    for (const worker of workers) assert.equal(worker.exitCode(), null, `${worker.name} is still running`);
    await stack.stopWorkers();
    assert.deepEqual(result.missing, [], "every accepted event is delivered");
    assert.equal(result.repeatedWithNewKey, 0);
    assert.ok(sent.unavailable + sent.networkErrors > 0, "posts during the outage were refused, not accepted");
    const { rows: [stored] } = await stack.pool.query<{ n: number }>(
      "select count(*)::int as n from public.hook_logs where area_id = $1",
      [area.id],
    );
    assert.equal(stored.n, sent.accepted.size, "one stored event per accepted post, none without its 202");
    return {
      ...counts(result),
      outage_ms: outage.upAt - outage.downAt,
      refused_during_outage: sent.unavailable + sent.networkErrors,
      workers_ready_after_ms: Math.max(...readyMs.map((at) => at - outage.upAt)),
    };
  });
}

/**
 * One user's receiver answers 429 (Retry-After) then 500 for a while, another's is healthy, a
 * third's always fails: retries back off, the healthy user is not held up, and the hopeless
 * events end in area.dead.
 */
export function failingReceivers(stack: ChaosStack, size: Size): Promise<Figures> {
  return withLedger((healthy) =>
    withLedger((flaky) =>
      withLedger(async (down) => {
        await stack.startWorker();
        let startedAt = Number.POSITIVE_INFINITY;
        flaky.answer((_, response) => {
          const elapsed = Date.now() - startedAt;
          if (elapsed < 4_000) return void response.writeHead(429, { "retry-after": "2" }).end("slow down");
          if (elapsed < 7_000) return void response.writeHead(500).end("broken");
          answerOk(0, response);
        });
        down.answer((_, response) => void response.writeHead(500).end("always down"));
        const areas = {
          healthy: await webhookArea(stack.pool, healthy, "Chaos: healthy receiver"),
          flaky: await webhookArea(stack.pool, flaky, "Chaos: flaky receiver"),
          down: await webhookArea(stack.pool, down, "Chaos: receiver down"),
        };
        const share = { count: Math.ceil(size.count / 3), rate: size.rate / 3 };
        // The flaky receiver's bad spell starts with the traffic.
        startedAt = Date.now();
        const [sentHealthy, sentFlaky, sentDown] = await Promise.all([
          sendEvents(stack.functionsUrl, areas.healthy, share),
          sendEvents(stack.functionsUrl, areas.flaky, share),
          sendEvents(stack.functionsUrl, areas.down, { ...share, count: 5 }),
        ]);
        // The hopeless events' retry budget, compressed from minutes to seconds (the queue's backoff
        // is tested as configured in tests/engine.test.ts) so they reach the dead letter queue now.
        const dead = await waitFor("the receiver-down events in area.dead", async () => {
          await stack.pool.query(
            `update pgboss.job set retry_limit = 1, retry_delay = 1, retry_backoff = false,
                    start_after = least(start_after, now() + interval '1 second')
             where name = 'area.execute' and state in ('created', 'retry')
               and data ->> 'hookLogId' in (select id::text from public.hook_logs where area_id = $1)`,
            [areas.down.id],
          );
          const { rows: [row] } = await stack.pool.query<{ n: number }>(
            "select count(*)::int as n from admin.dead_executions where area_id = $1",
            [areas.down.id],
          );
          return row.n >= sentDown.accepted.size ? row.n : undefined;
        }, 90_000);
        const healthyResult = await tally(healthy, sentHealthy.accepted.keys());
        const flakyResult = await tally(flaky, sentFlaky.accepted.keys(), 120_000);
        await stack.stopWorkers();
        assert.deepEqual(healthyResult.missing, []);
        assert.deepEqual(flakyResult.missing, [], "the flaky receiver's events arrive once it recovers");
        const latency = (ledger: Ledger, sent: Map<number, number>) =>
          [...sent].map(([seq, at]) => ledger.deliveries.get(seq)!.at(-1)!.at - at);
        // Retries back off: a refused delivery is tried again no sooner than Retry-After (2 s) said.
        const gaps = [...flaky.deliveries.values()].flatMap((deliveries) =>
          deliveries.slice(1).map((delivery, i) => delivery.at - deliveries[i].at)
        );
        assert.ok(gaps.length > 0, "the flaky receiver's refusals were retried");
        assert.ok(Math.min(...gaps) >= 1_900, `retries wait for Retry-After (shortest gap ${Math.min(...gaps)} ms)`);
        const healthyP99 = quantile(latency(healthy, sentHealthy.accepted), 0.99);
        assert.ok(healthyP99 < 5_000, `the healthy user's p99 ${healthyP99} ms is not held up by the others`);
        const waits = await queueWaits(stack, [areas.healthy.id, areas.flaky.id]);
        return {
          healthy_delivered: `${healthyResult.delivered}/${healthyResult.accepted}`,
          healthy_p99_ms: healthyP99,
          flaky_delivered: `${flakyResult.delivered}/${flakyResult.accepted}`,
          flaky_retries: gaps.length,
          flaky_shortest_retry_gap_ms: Math.min(...gaps),
          dead_lettered: `${dead}/${sentDown.accepted.size}`,
          queue_wait_p99_ms_healthy: waits[areas.healthy.id],
          queue_wait_p99_ms_flaky: waits[areas.flaky.id],
        };
      })
    )
  );
}

/**
 * A noisy user floods a slow receiver while quiet users send a little: the noisy user's executions
 * never exceed the per-user cap at once, and the quiet users' events do not queue behind them.
 */
export function noisyNeighbour(stack: ChaosStack, size: Size): Promise<Figures> {
  const cap = 3;
  return withLedger((noisy) =>
    withLedger(async (quiet) => {
      await stack.startWorker({ AREA_GROUP_CONCURRENCY: String(cap), AREA_WORKER_CONCURRENCY: "8" });
      let inFlight = 0;
      let maxInFlight = 0;
      noisy.answer(async (_, response) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await sleep(150);
        inFlight--;
        answerOk(0, response);
      });
      const noisyArea = await webhookArea(stack.pool, noisy, "Chaos: noisy user");
      const quietAreas = [];
      for (let i = 0; i < 3; i++) quietAreas.push(await webhookArea(stack.pool, quiet, `Chaos: quiet user ${i}`));
      const quietCount = Math.max(5, Math.round(size.count / 20));
      const [sentNoisy, ...sentQuiet] = await Promise.all([
        sendEvents(stack.functionsUrl, noisyArea, { count: size.count, rate: size.rate }),
        ...quietAreas.map((area, i) =>
          sendEvents(stack.functionsUrl, area, { first: 100_000 * (i + 1), count: quietCount, rate: 2 })
        ),
      ]);
      const quietResult = await tally(quiet, sentQuiet.flatMap((sent) => [...sent.accepted.keys()]));
      const noisyResult = await tally(noisy, sentNoisy.accepted.keys(), 180_000);
      await stack.stopWorkers();
      assert.deepEqual(quietResult.missing, []);
      assert.deepEqual(noisyResult.missing, []);
      assert.ok(maxInFlight <= cap, `at most ${cap} of the noisy user's executions at once (saw ${maxInFlight})`);
      const waits = await queueWaits(stack, [noisyArea.id, ...quietAreas.map((area) => area.id)]);
      const quietWait = Math.max(...quietAreas.map((area) => waits[area.id]));
      assert.ok(quietWait < waits[noisyArea.id] || quietWait < 2_000, "quiet users do not wait behind the noisy one");
      return {
        noisy_delivered: `${noisyResult.delivered}/${noisyResult.accepted}`,
        quiet_delivered: `${quietResult.delivered}/${quietResult.accepted}`,
        noisy_max_in_flight: maxInFlight,
        queue_wait_p99_ms_noisy: waits[noisyArea.id],
        queue_wait_p99_ms_quiet_worst: quietWait,
      };
    })
  );
}

/** A node fed poison (params that render invalid) fails that execution readably; the worker goes on. */
export function poisonInput(stack: ChaosStack, size: Size): Promise<Figures> {
  return withLedger(async (ledger) => {
    const worker = await stack.startWorker();
    const poisoned = await createArea(stack.pool, await createUser(stack.pool), {
      name: "Chaos: poison",
      enabled: true,
      action: { service: "webhook", name: "received", params: {} },
      reactions: [{ service: "http", name: "request", params: { url: "{{body.target}}", method: "POST" } }],
    });
    const area = await webhookArea(stack.pool, ledger, "Chaos: after the poison");
    const poison = [{ target: { not: "a url" } }, { target: "not a url" }, { target: "ftp://example.com/x" }];
    const hookLogIds: string[] = [];
    for (const [i, outputs] of poison.entries()) {
      const { rows: [{ result }] } = await stack.pool.query(
        "select private.ingest_event($1, $2, $3) as result",
        [poisoned.hook.id, `poison-${i}`, JSON.stringify({ body: outputs })],
      );
      hookLogIds.push(result.hook_log_id);
    }
    const sent = await sendEvents(stack.functionsUrl, area, { count: Math.min(size.count, 50), rate: size.rate });
    const result = await tally(ledger, sent.accepted.keys());
    const failed = await waitFor("the poisoned executions to fail", async () => {
      const { rows } = await stack.pool.query<{ status: string; attempt: number; error_text: string }>(
        `select status, attempt, error_text from public.execution_logs
         where hook_log_id = any($1::uuid[]) and area_reaction_id is not null`,
        [hookLogIds],
      );
      return rows.length === poison.length ? rows : undefined;
    });
    assert.equal(worker.exitCode(), null, "the worker is still running");
    await stack.stopWorkers();
    assert.deepEqual(result.missing, [], "the events after the poison are delivered");
    for (const row of failed) {
      assert.equal(row.status, "failed");
      assert.equal(row.attempt, 1, "a poisoned execution is permanent: no retries burnt");
      assert.match(row.error_text, /url/i, "the error names the param");
    }
    return { poisoned_failed: `${failed.length}/${poison.length}`, ...counts(result) };
  });
}

/** The same provider delivery posted five times at once makes one event and one delivery. */
export function duplicateDeliveries(stack: ChaosStack, size: Size): Promise<Figures> {
  return withLedger(async (ledger) => {
    await stack.startWorker();
    const area = await webhookArea(stack.pool, ledger, "Chaos: duplicate deliveries");
    const count = Math.min(size.count, 200);
    const copies = await Promise.all(
      range(0, 5).map(() => sendEvents(stack.functionsUrl, area, { count, rate: size.rate })),
    );
    const result = await tally(ledger, copies[0].accepted.keys());
    await sleep(1_000); // time for a duplicate execution to show, were there one
    await stack.stopWorkers();
    const { rows: [stored] } = await stack.pool.query<{ events: number; executions: number }>(
      `select count(distinct l.id)::int as events, count(e.id)::int as executions
       from public.hook_logs l left join public.execution_logs e on e.hook_log_id = l.id and e.area_reaction_id is not null
       where l.area_id = $1`,
      [area.id],
    );
    assert.deepEqual(result.missing, []);
    assert.equal(stored.events, count, "one stored event per delivery id");
    assert.equal(stored.executions, count, "one execution per event");
    assert.equal(result.repeated, 0, "one delivery per event");
    return { posted: count * 5, events: stored.events, executions: stored.executions, delivered: result.delivered };
  });
}

/** SIGTERM one of two workers mid-load: it finishes what it holds and exits 0; nothing lost or repeated. */
export function gracefulShutdown(stack: ChaosStack, size: Size): Promise<Figures> {
  return withLedger(async (ledger) => {
    const workers = [await stack.startWorker(), await stack.startWorker()];
    // Slow enough that the worker holds executions when SIGTERM comes.
    ledger.answer(slowly);
    const area = await webhookArea(stack.pool, ledger, "Chaos: graceful shutdown");
    const sending = sendEvents(stack.functionsUrl, area, size);
    await sleep((size.count / size.rate) * 400);
    const termAt = Date.now();
    workers[0].kill("SIGTERM");
    const exit = await workers[0].exited;
    const drainMs = Date.now() - termAt;
    const sent = await sending;
    const result = await tally(ledger, sent.accepted.keys(), 120_000);
    await stack.stopWorkers();
    assert.deepEqual(exit, { code: 0, signal: null }, "the worker exits 0");
    assert.deepEqual(result.missing, []);
    assert.equal(result.repeated, 0, "a graceful shutdown repeats nothing");
    return { ...counts(result), drain_ms: drainMs };
  });
}

/** Four workers on one queue: no reaction that succeeded runs twice. */
export function manyWorkers(stack: ChaosStack, size: Size): Promise<Figures> {
  return withLedger(async (ledger) => {
    for (let i = 0; i < 4; i++) await stack.startWorker();
    const area = await webhookArea(stack.pool, ledger, "Chaos: four workers");
    const sent = await sendEvents(stack.functionsUrl, area, size);
    const result = await tally(ledger, sent.accepted.keys());
    await stack.stopWorkers();
    assert.deepEqual(result.missing, []);
    assert.equal(result.repeated, 0, "no double execution");
    return counts(result);
  });
}

/**
 * Throughput at 1, 2 and 4 worker processes against one Postgres: `size.count` events, stored in
 * one statement across eight users' AREAs (so no per-user cap binds), each an HTTP reaction to a
 * local receiver; from the commit to the last delivery. Measured by `npm run chaos`, not asserted.
 */
export function capacity(stack: ChaosStack, size: Size): Promise<Figures> {
  return withLedger(async (ledger) => {
    // A worker seals the new AREAs' webhook secrets; more join for each step.
    let running = 1;
    await stack.startWorker();
    const areas = [];
    for (let i = 0; i < 8; i++) areas.push(await webhookArea(stack.pool, ledger, `Chaos: capacity ${i}`));
    const hooks = await stack.pool.query<{ hook_job_id: string }>(
      "select id as hook_job_id from public.hook_jobs where area_id = any($1::uuid[])",
      [areas.map((area) => area.id)],
    );
    const figures: Figures = {};
    let first = 1;
    for (const workers of [1, 2, 4]) {
      for (; running < workers; running++) await stack.startWorker();
      const { rows: [ingested] } = await stack.pool.query<{ accepted: number }>(
        `select count(*) filter (where result ->> 'status' = 'accepted')::int as accepted
         from private.ingest_events((
           select jsonb_agg(jsonb_build_object('hook_job_id', ($1::uuid[])[1 + i % cardinality($1::uuid[])],
                                               'dedupe_key', 'seq-' || i,
                                               'payload', jsonb_build_object('body', jsonb_build_object('seq', i))))
           from generate_series($2::int, $2::int + $3::int - 1) i))`,
        [hooks.rows.map((row) => row.hook_job_id), first, size.count],
      );
      const committedAt = Date.now();
      assert.equal(ingested.accepted, size.count);
      const result = await tally(ledger, range(first, size.count), 300_000);
      assert.deepEqual(result.missing, []);
      const lastAt = Math.max(...range(first, size.count).map((seq) => ledger.deliveries.get(seq)![0].at));
      figures[`events_per_s_${workers}_worker${workers > 1 ? "s" : ""}`] = Math.round(
        size.count / ((lastAt - committedAt) / 1000),
      );
      first += size.count;
    }
    await stack.stopWorkers();
    return figures;
  });
}

function counts(result: Awaited<ReturnType<typeof tally>>): Figures {
  return { delivered: `${result.delivered}/${result.accepted}`, repeats: result.repeated };
}

/** p99 of stored → execution started, per AREA, in ms. */
async function queueWaits(stack: ChaosStack, areaIds: string[]): Promise<Record<string, number>> {
  const { rows } = await stack.pool.query<{ area_id: string; p99: number }>(
    `select l.area_id, percentile_disc(0.99) within group (order by extract(epoch from e.started_at - l.received_at) * 1000) as p99
     from public.hook_logs l join public.execution_logs e on e.hook_log_id = l.id and e.area_reaction_id is null
     where l.area_id = any($1::uuid[])
     group by l.area_id`,
    [areaIds],
  );
  return Object.fromEntries(rows.map((row) => [row.area_id, Math.round(Number(row.p99))]));
}

export const scenarios = {
  worker_killed: workerKilled,
  postgres_restarted: postgresRestarted,
  failing_receivers: failingReceivers,
  noisy_neighbour: noisyNeighbour,
  poison_input: poisonInput,
  duplicate_deliveries: duplicateDeliveries,
  graceful_shutdown: gracefulShutdown,
  many_workers: manyWorkers,
};
