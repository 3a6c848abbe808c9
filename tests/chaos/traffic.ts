// Load and bookkeeping for the fault-injection suite: AREAs whose HTTP reaction posts the event's
// sequence number to a receiver that keeps a ledger of every delivery (seq, Idempotency-Key, time),
// and a sender that posts signed generic webhooks at a fixed rate and, like a real provider,
// retries what was not accepted (a 503 or a dropped connection) until it is.
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { signedWebhookHeaders, webhookToHttpArea } from "../../scripts/lib/areas.ts";
import { type Receiver, startReceiver } from "../support/receiver.ts";

export interface Delivery {
  key: string;
  at: number;
}

/** How the receiver answers one request: by default 200 at once. */
export type Answer = (seq: number, response: ServerResponse) => void | Promise<void>;

export interface Ledger {
  receiver: Receiver;
  deliveries: Map<number, Delivery[]>;
  /** Replaces how the receiver answers from now on. */
  answer(how: Answer): void;
  close(): Promise<void>;
}

export const answerOk: Answer = (_, response) => void response.writeHead(200).end("ok");

export async function startLedger(): Promise<Ledger> {
  const deliveries = new Map<number, Delivery[]>();
  let how = answerOk;
  const receiver = await startReceiver(async (request, response) => {
    const seq = Number((JSON.parse(request.body) as { seq: unknown }).seq);
    const key = String(request.headers["idempotency-key"] ?? "");
    deliveries.set(seq, [...(deliveries.get(seq) ?? []), { key, at: Date.now() }]);
    await how(seq, response);
  });
  return {
    receiver,
    deliveries,
    answer: (next) => void (how = next),
    close: () => receiver.close(),
  };
}

export interface WebhookArea {
  id: string;
  url: string;
  secret: string;
}

/** A new user's enabled webhook/received → http/request AREA posting {"seq": …} to the ledger. */
export async function webhookArea(pool: pg.Pool, ledger: Ledger, name: string): Promise<WebhookArea> {
  const { area, secret } = await webhookToHttpArea(pool, {
    name,
    url: `${ledger.receiver.origin}/deliveries`,
    body: '{"seq": {{body.seq}}}',
  });
  return { id: area.id, url: area.webhook!.endpoint, secret };
}

export interface SendResult {
  /** seq → when it was accepted (202). */
  accepted: Map<number, number>;
  /** 503 answers (the sender retried each). */
  unavailable: number;
  /** Connections refused or dropped (retried too). */
  networkErrors: number;
}

/**
 * Posts events `first`..`first + count - 1` to the AREA at `rate` per second (open loop: on time,
 * whatever the answers), each retried until accepted. Any answer but 200, 202 or 503 fails the run.
 * Each event carries a delivery id (X-Area-Delivery: seq-<n>), as providers send, so a retry of a
 * post whose answer was lost is stored once.
 */
export async function sendEvents(
  functionsUrl: string,
  area: WebhookArea,
  options: { first?: number; count: number; rate: number },
): Promise<SendResult> {
  const result: SendResult = { accepted: new Map(), unavailable: 0, networkErrors: 0 };
  const first = options.first ?? 1;
  // The endpoint is a path on the project's URL (/functions/v1/webhooks/webhook/<id>).
  const url = new URL(area.url, functionsUrl).href;
  const send = async (seq: number) => {
    const body = JSON.stringify({ seq });
    const headers = { ...signedWebhookHeaders(area.secret, body), "x-area-delivery": `seq-${seq}` };
    for (let attempt = 0;; attempt++) {
      try {
        const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(15_000) });
        const text = await response.text();
        // 202: stored; 200 {"status": "duplicate"}: that delivery id was stored before.
        if (response.status === 202 || response.status === 200) {
          result.accepted.set(seq, Date.now());
          return;
        }
        if (response.status !== 503) throw new Error(`seq ${seq}: HTTP ${response.status} ${text.slice(0, 200)}`);
        result.unavailable++;
      } catch (error) {
        if ((error as Error).message.startsWith(`seq ${seq}:`)) throw error;
        result.networkErrors++;
      }
      if (attempt > 300) throw new Error(`seq ${seq}: not accepted after ${attempt} attempts`);
      await sleep(200);
    }
  };
  const sends: Promise<void>[] = [];
  // The first failure, kept until every send has ended: a rejection nobody awaits yet would end the process.
  let failure: unknown;
  const start = Date.now();
  for (let i = 0; i < options.count && failure === undefined; i++) {
    const wait = start + (i * 1000) / options.rate - Date.now();
    if (wait > 1) await sleep(wait);
    sends.push(send(first + i).catch((error) => void (failure ??= error)));
  }
  await Promise.all(sends);
  if (failure !== undefined) throw failure;
  return result;
}

export interface Tally {
  accepted: number;
  delivered: number;
  missing: number[];
  /** Events delivered more than once. */
  repeated: number;
  /** Repeats under another Idempotency-Key than the first delivery's: never allowed. */
  repeatedWithNewKey: number;
}

/** Waits until every accepted event reached the ledger (or `timeoutMs`), then tallies. */
export async function tally(ledger: Ledger, accepted: Iterable<number>, timeoutMs = 60_000): Promise<Tally> {
  const seqs = [...accepted];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && seqs.some((seq) => !ledger.deliveries.has(seq))) await sleep(100);
  let repeated = 0;
  let repeatedWithNewKey = 0;
  for (const seq of seqs) {
    const deliveries = ledger.deliveries.get(seq) ?? [];
    if (deliveries.length > 1) repeated++;
    if (deliveries.some((delivery) => delivery.key !== deliveries[0].key)) repeatedWithNewKey++;
  }
  const missing = seqs.filter((seq) => !ledger.deliveries.has(seq));
  return { accepted: seqs.length, delivered: seqs.length - missing.length, missing, repeated, repeatedWithNewKey };
}
