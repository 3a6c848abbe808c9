// The per-user cap on executions running at once (worker/src/group_slots.ts) with real worker
// processes: two workers of four fetch loops each, on a throwaway stack of their own (the test
// stack's worker runs with another cap, one test slows the job table down, the other kills a worker). A receiver that holds each
// request a while counts one user's requests in flight.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, test } from "node:test";
import { waitFor } from "../scripts/lib/areas.ts";
import { ChaosStack, type Worker } from "./chaos/harness.ts";
import { answerOk, type Ledger, startLedger, tally, webhookArea } from "./chaos/traffic.ts";

const CAP = 2;
const workerEnv = { AREA_GROUP_CONCURRENCY: String(CAP), AREA_WORKER_CONCURRENCY: "4" };

let stack: ChaosStack;
const ledgers: Ledger[] = [];
before(async () => {
  stack = await ChaosStack.start("group-slots");
});
after(async () => {
  await Promise.all(ledgers.map((ledger) => ledger.close()));
  await stack?.stop();
});

/** A receiver that keeps each request `holdMs` (or until `hold` resolves) and counts those in flight. */
async function slowLedger(holdMs: number) {
  const ledger = await startLedger();
  ledgers.push(ledger);
  const gauge = { inFlight: 0, max: 0, hold: null as Promise<void> | null };
  ledger.answer(async (_, response: ServerResponse) => {
    gauge.max = Math.max(gauge.max, ++gauge.inFlight);
    try {
      await (gauge.hold ?? sleep(holdMs));
    } finally {
      gauge.inFlight--;
    }
    answerOk(0, response);
  });
  return { ledger, gauge };
}

/** A user's AREA posting to `ledger`, with its hook and its user (the execution jobs' group). */
async function userArea(ledger: Ledger, name: string) {
  const area = await webhookArea(stack.pool, ledger, name);
  const { rows: [row] } = await stack.pool.query<{ hook_job_id: string; user_id: string }>(
    `select h.id as hook_job_id, a.user_id from public.hook_jobs h join public.areas a on a.id = h.area_id
     where a.id = $1`,
    [area.id],
  );
  return { areaId: area.id, hookJobId: row.hook_job_id, userId: row.user_id };
}

/** Stores events first..first+count-1 of the hook at once (one statement): a burst of jobs. */
async function burst(hookJobId: string, first: number, count: number): Promise<number[]> {
  const seqs = Array.from({ length: count }, (_, i) => first + i);
  const { rows } = await stack.pool.query<{ result: { status: string } }>(
    `select result from private.ingest_events((
       select jsonb_agg(jsonb_build_object('hook_job_id', $1::uuid, 'dedupe_key', 'seq-' || seq,
                                           'payload', jsonb_build_object('body', jsonb_build_object('seq', seq))))
       from unnest($2::int[]) seq))`,
    [hookJobId, seqs],
  );
  assert.ok(rows.every((row) => row.result.status === "accepted"));
  return seqs;
}

/** The user's execution jobs holding a slot now (active, admitted in their current attempt). */
async function slotsHeld(userId: string): Promise<number> {
  const { rows: [row] } = await stack.pool.query<{ n: number }>(
    `select count(*)::int as n from pgboss.job
     where name = 'area.execute' and state = 'active' and group_id = $1
       and output ->> 'admitted_attempt' = retry_count::text`,
    [userId],
  );
  return row.n;
}

test("one user's executions never exceed the cap across two workers and their fetch loops; others are not held up", async (t) => {
  const workers = await Promise.all([stack.startWorker(workerEnv), stack.startWorker(workerEnv)]);
  const noisy = await slowLedger(150);
  const quiet = await startLedger();
  ledgers.push(quiet);
  const noisyArea = await userArea(noisy.ledger, "Slots: noisy user");
  const quietArea = await userArea(quiet, "Slots: quiet user");
  // Fault injection, this stack only: a fetch that claims the noisy user's jobs takes 200 ms per job
  // to commit (a busy database), so the fetches running meanwhile each see none of them active. The
  // race pg-boss's filter loses, made certain: it alone would run up to 2 × 4 × 2 of them at once.
  await stack.pool.query(`
    create schema if not exists test_faults;
    create table test_faults.slow_groups (group_id text primary key);
    create function test_faults.slow_claim() returns trigger language plpgsql as $$
    begin
      if new.group_id in (select group_id from test_faults.slow_groups) then
        perform pg_sleep(0.2);
      end if;
      return new;
    end
    $$;
    create trigger slow_claim before update on pgboss.job_common for each row
      when (old.state < 'active' and new.state = 'active') execute function test_faults.slow_claim();`);
  await stack.pool.query("insert into test_faults.slow_groups values ($1)", [noisyArea.userId]);

  // Events one by one, each waking an idle fetch loop, the quiet user's amid them.
  const noisySeqs: number[] = [];
  let quietSeqs: number[] = [];
  let quietAt = 0;
  for (let seq = 1; seq <= 50; seq++) {
    noisySeqs.push(...await burst(noisyArea.hookJobId, seq, 1));
    if (seq === 20) {
      quietAt = Date.now();
      quietSeqs = await burst(quietArea.hookJobId, 1, 5);
    }
    await sleep(25);
  }
  const quietResult = await tally(quiet, quietSeqs, 10_000);
  const quietMs = Math.max(...quietSeqs.map((seq) => quiet.deliveries.get(seq)?.[0].at ?? Infinity)) - quietAt;
  const noisyResult = await tally(noisy.ledger, noisySeqs, 90_000);
  await stack.stopWorkers();
  await stack.pool.query("drop schema test_faults cascade");

  assert.deepEqual(noisyResult.missing, [], "every event of the noisy user is delivered");
  assert.equal(noisyResult.repeated, 0, "none twice");
  assert.ok(noisy.gauge.max <= CAP, `at most ${CAP} of the user's executions at once (saw ${noisy.gauge.max})`);
  assert.equal(noisy.gauge.max, CAP, "and the cap is used");
  assert.deepEqual(quietResult.missing, []);
  // The noisy user's 50 events take over 4 s; the quiet user's wait for none of them.
  assert.ok(quietMs < 3_000, `the quiet user's events ran at once (${quietMs} ms), not behind the noisy user's`);
  const { rows: [counts] } = await stack.pool.query<{ deferred: number; max_attempt: number }>(
    `select (select count(*)::int from pgboss.job where name = 'area.execute' and group_id = $1
             and output ? 'deferred') as deferred,
            (select max(attempt)::int from public.execution_logs where area_id = $2) as max_attempt`,
    [noisyArea.userId, noisyArea.areaId],
  );
  t.diagnostic(`deferred ${counts.deferred}; the quiet user's events done in ${quietMs} ms`);
  // pg-boss's filter let more than the cap through, and the gate deferred the excess.
  assert.ok(counts.deferred > 0, "the excess of the fetches running together was deferred");
  assert.equal(counts.max_attempt, 1, "a deferral spends no attempt");
  for (const worker of workers) assert.deepEqual(await worker.exited, { code: 0, signal: null });
});

test("a worker killed while holding a user's slots does not keep them: they come back with its heartbeat", async (t) => {
  const doomed: Worker = await stack.startWorker(workerEnv);
  const { ledger, gauge } = await slowLedger(100);
  const area = await userArea(ledger, "Slots: crashed worker");
  let release = () => {};
  gauge.hold = new Promise<void>((resolve) => (release = resolve));
  const held = await burst(area.hookJobId, 1, 4);
  await waitFor("the worker to hold the user's slots", () => Promise.resolve(gauge.inFlight === CAP));
  assert.equal(await slotsHeld(area.userId), CAP);

  doomed.kill("SIGKILL");
  await doomed.exited;
  const killedAt = Date.now();
  gauge.hold = null;
  release();
  gauge.max = 0;
  await stack.startWorker(workerEnv);
  const later = await burst(area.hookJobId, 100, 6);
  const result = await tally(ledger, [...held, ...later], 90_000);
  const recoveredMs = Math.max(...later.map((seq) => ledger.deliveries.get(seq)?.[0].at ?? Infinity)) - killedAt;
  await stack.stopWorkers();
  t.diagnostic(`the later events were all delivered ${recoveredMs} ms after the kill`);

  assert.deepEqual(result.missing, [], "the interrupted events and the later ones are delivered");
  assert.equal(result.repeatedWithNewKey, 0, "an interrupted event is repeated under its first Idempotency-Key");
  assert.ok(recoveredMs < 45_000, `the dead worker's slots came back with its heartbeat (${recoveredMs} ms)`);
  assert.equal(gauge.max, CAP, "the next worker runs the user's executions at the full cap");
  assert.equal(await slotsHeld(area.userId), 0, "no slot is left taken");
});
