// ingest_per_s / ingest_p99_ms: webhook intake. autocannon POSTs {"seq": n}, each signed with the
// AREA's secret (X-Area-Signature), as fast as 50 connections allow to the real webhooks function,
// through the gateway, on a generic webhook/received AREA whose reaction is a bench/noop: the
// verifier, the function and ingest_events are measured, with the worker draining the executions
// alongside as it would in production. Every 202 must be a stored event: the hook's logs are
// counted afterwards.
import autocannon from "autocannon";
import type pg from "pg";
import { createWebhookArea, signedWebhookHeaders } from "../areas.ts";

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

export interface IngestTarget {
  url: string;
  hookJobId: string;
  secret: string;
}

/** A generic webhook AREA with a no-op reaction, and its endpoint checked with one signed POST (202 expected). */
export async function prepareIngest(pool: pg.Pool, functionsUrl: string): Promise<IngestTarget> {
  const { area, secret } = await createWebhookArea(pool, "Bench: webhook intake", {
    service: "bench",
    name: "noop",
    params: {},
  });
  const url = `${functionsUrl}/webhooks/webhook/${area.hook.id}`;
  const body = JSON.stringify({ seq: 0 });
  const response = await fetch(url, {
    method: "POST",
    headers: signedWebhookHeaders(secret, body),
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`POST ${url} answered ${response.status} ${text.slice(0, 300)}`);
  return { url, hookJobId: area.hook.id, secret };
}

export async function measureIngest(
  pool: pg.Pool,
  target: IngestTarget,
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
    requests: [{
      setupRequest: (request) => {
        const body = JSON.stringify({ seq: ++seq });
        return { ...request, body, headers: signedWebhookHeaders(target.secret, body) };
      },
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
