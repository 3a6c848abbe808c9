// e2e_p50_ms / e2e_p99_ms: a signed generic webhook (webhook/received, verified with the AREA's
// secret) through the gateway and the webhooks function, executed by the worker, whose reaction
// (http/request) POSTs {"seq": {{body.seq}}} to a local receiver. Events are sent by an open-loop pacer
// (at a fixed rate, whatever the answers do); latency is the time from sending the POST to the
// receiver getting the reaction's request, per seq.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { startReceiver } from "../../../tests/support/receiver.ts";
import { signedWebhookHeaders, waitFor, webhookToHttpArea } from "../areas.ts";
import { quantile } from "./fixtures.ts";

/** p50 and p99 of one stage, in ms. */
export interface Spread {
  p50: number;
  p99: number;
}

export interface E2eResult {
  events: number;
  ratePerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * Where the time goes, by the timestamps AREA records (same machine, same clock): POST sent →
   * event stored (hook_logs.received_at), → execution started (execution_logs.started_at), →
   * reaction's request at the receiver.
   */
  stages: { toStored: Spread; storedToStarted: Spread; startedToReceiver: Spread };
}

/** Milliseconds since the epoch, sub-millisecond: comparable with the database's timestamps. */
const epochMs = () => performance.timeOrigin + performance.now();

export async function measureE2e(
  pool: pg.Pool,
  functionsUrl: string,
  options: { rate: number; seconds: number; warmupSeconds: number },
): Promise<E2eResult> {
  const arrivals = new Map<number, number>();
  const receiver = await startReceiver((request, response) => {
    const seq = Number((JSON.parse(request.body) as { seq: unknown }).seq);
    if (!arrivals.has(seq)) arrivals.set(seq, epochMs());
    response.writeHead(200, { "content-type": "text/plain" }).end("ok");
  });
  try {
    const { area, secret } = await webhookToHttpArea(pool, {
      name: "Bench: end to end",
      url: `${receiver.origin}/e2e`,
      body: '{"seq": {{body.seq}}}',
    });
    const url = `${functionsUrl}/webhooks/webhook/${area.hook.id}`;

    const sentAt = new Map<number, number>();
    const failures: string[] = [];
    const inFlight = new Set<Promise<void>>();
    const post = (seq: number) => {
      const body = JSON.stringify({ seq });
      const headers = signedWebhookHeaders(secret, body);
      sentAt.set(seq, epochMs());
      const request = fetch(url, { method: "POST", headers, body })
        .then(async (response) => {
          const text = await response.text();
          if (response.status !== 202) failures.push(`seq ${seq}: HTTP ${response.status} ${text.slice(0, 200)}`);
        })
        .catch((error) => void failures.push(`seq ${seq}: ${(error as Error).message}`))
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
    };

    // Warm-up (not counted): first connections, the worker's definition cache, JIT.
    const warmup = Math.round(options.rate * options.warmupSeconds);
    const measured = Math.round(options.rate * options.seconds);
    const interval = 1000 / options.rate;
    const start = performance.now();
    for (let i = 0; i < warmup + measured; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      post(i + 1);
    }
    await Promise.all(inFlight);
    if (failures.length > 0) {
      throw new Error(`${failures.length} webhook POSTs were not accepted, e.g. ${failures.slice(0, 3).join("; ")}`);
    }
    const total = warmup + measured;
    await waitFor(
      `${total} reactions reaching the receiver`,
      async () => {
        // An execution that failed will never reach the receiver: stop at once and say why.
        const { rows: [failed] } = await pool.query<{ error_text: string }>(
          "select error_text from public.execution_logs where area_id = $1 and status <> 'success' limit 1",
          [area.id],
        );
        if (failed) throw new Error(`an e2e execution failed: ${failed.error_text}`);
        return arrivals.size >= total;
      },
      60_000,
    ).catch((error: Error) => {
      if (error.message.startsWith("an e2e execution failed")) throw error;
      throw new Error(`${total - arrivals.size} of ${total} events never reached the receiver (lost)`);
    });

    const latencies: number[] = [];
    for (let seq = warmup + 1; seq <= total; seq++) latencies.push(arrivals.get(seq)! - sentAt.get(seq)!);

    const { rows: recorded } = await pool.query<{ seq: number; stored: number; started: number }>(
      `select (l.event_payload #>> '{body,seq}')::int as seq, extract(epoch from l.received_at) * 1000 as stored,
              extract(epoch from e.started_at) * 1000 as started
       from public.hook_logs l
       join public.execution_logs e on e.hook_log_id = l.id and e.area_reaction_id is null
       where l.area_id = $1`,
      [area.id],
    );
    const toStored: number[] = [];
    const storedToStarted: number[] = [];
    const startedToReceiver: number[] = [];
    for (const row of recorded) {
      if (row.seq <= warmup) continue;
      toStored.push(Number(row.stored) - sentAt.get(row.seq)!);
      storedToStarted.push(Number(row.started) - Number(row.stored));
      startedToReceiver.push(arrivals.get(row.seq)! - Number(row.started));
    }
    const spread = (values: number[]) => ({ p50: quantile(values, 0.5), p99: quantile(values, 0.99) });
    return {
      events: measured,
      ratePerSecond: options.rate,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      maxMs: Math.max(...latencies),
      stages: {
        toStored: spread(toStored),
        storedToStarted: spread(storedToStarted),
        startedToReceiver: spread(startedToReceiver),
      },
    };
  } finally {
    await receiver.close();
  }
}
