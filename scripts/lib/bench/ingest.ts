// ingest_per_s / ingest_p99_ms: webhook intake alone. autocannon POSTs {"seq": n} as fast as 50
// connections allow to the real webhooks function, through the gateway, on a bench/noop hook
// (unsigned, so this measures the function and ingest_events, not a verifier). Every 202 must be
// a stored event: the hook's logs are counted afterwards.
import autocannon from "autocannon";
import type pg from "pg";
import { benchNoopArea } from "../areas.ts";

export interface IngestResult {
  requests: number;
  accepted: number;
  non2xx: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  seconds: number;
  connections: number;
}

/** A bench/noop AREA, and its endpoint checked with one POST (202 expected). */
export async function prepareIngest(
  pool: pg.Pool,
  functionsUrl: string,
): Promise<{ url: string; hookJobId: string }> {
  const { area } = await benchNoopArea(pool, "Bench: webhook intake");
  const url = `${functionsUrl}/webhooks/bench/${area.hook.id}`;
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ seq: 0 }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`POST ${url} answered ${response.status} ${text.slice(0, 300)}`);
  return { url, hookJobId: area.hook.id };
}

export async function measureIngest(
  pool: pg.Pool,
  target: { url: string; hookJobId: string },
  options: { seconds: number; connections: number },
): Promise<IngestResult> {
  const count = async () =>
    (await pool.query<{ n: number }>("select count(*)::int as n from public.hook_logs where hook_job_id = $1", [
      target.hookJobId,
    ])).rows[0].n;
  const before = await count();
  let seq = 0;
  const result = await autocannon({
    url: target.url,
    method: "POST",
    connections: options.connections,
    duration: options.seconds,
    headers: { "content-type": "application/json" },
    requests: [{
      setupRequest: (request) => ({ ...request, body: JSON.stringify({ seq: ++seq }) }),
    }],
  });
  const stored = (await count()) - before;
  const accepted = result["2xx"];
  // A request still in flight when autocannon stops may be stored without its answer being counted.
  if (stored < accepted) {
    throw new Error(`${accepted} webhooks were answered 2xx but only ${stored} events were stored (lost)`);
  }
  return {
    requests: result.requests.total,
    accepted,
    non2xx: result.non2xx,
    errors: result.errors,
    perSecond: accepted / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    seconds: result.duration,
    connections: options.connections,
  };
}
