// Storing events, with deliveries that arrive together stored together ("group commit"): a
// delivery is sent at once when a statement slot is free; while all slots are busy, deliveries
// queue and the next free slot stores every queued one in ONE statement. A quiet endpoint adds
// no latency; a busy one pays one round trip, one transaction and one commit per batch instead
// of per delivery. A delivery's events always travel in one statement: stored all or none.
import { refusedData } from "../../../packages/nodes/src/errors.ts";

export interface IngestResult {
  status: "accepted" | "duplicate" | "inactive" | "unknown_hook";
  hook_log_id?: string;
}

/** One delivery: its hook, its events' dedupe keys, and each event's outputs as JSON text. */
export interface Delivery {
  hookJobId: string;
  dedupeKeys: string[];
  outputs: string[];
}

/** Stores deliveries in one statement; returns, per delivery, one result per event. */
export type StoreBatch = (batch: Delivery[]) => Promise<IngestResult[][]>;

/** The database did not store the delivery (unreachable, failing, too slow or too busy): answer 503. */
export class NotStored extends Error {}

export interface BatcherOptions {
  store: StoreBatch;
  /** Statements in flight at once (keep below the pool size: hook lookups need a connection too). */
  slots: number;
  /** Events per statement at most. */
  maxEvents: number;
  /** Payload bytes per statement at most (a delivery larger than this still goes, alone). */
  maxBytes: number;
  /** Events waiting at most; beyond, deliveries are refused at once (the database is not keeping up). */
  maxQueued: number;
  /** Payload bytes waiting at most: what bounds the function's memory when payloads are large. */
  maxQueuedBytes: number;
  /** A delivery not stored within this time is answered 503 (and dropped if it was still queued). */
  timeoutMs: number;
}

interface Pending {
  delivery: Delivery;
  events: number;
  bytes: number;
  settled: boolean;
  resolve(results: IngestResult[]): void;
  reject(error: Error): void;
}

export class IngestBatcher {
  #queue: Pending[] = [];
  #queuedEvents = 0;
  #queuedBytes = 0;
  #inFlight = 0;
  #options: BatcherOptions;

  constructor(options: BatcherOptions) {
    this.#options = options;
  }

  /** Resolves with one result per event once stored; rejects with NotStored when not stored. */
  ingest(delivery: Delivery): Promise<IngestResult[]> {
    const events = delivery.dedupeKeys.length;
    // UTF-16 code units: a cheap bound of the payload's size, within a factor of the UTF-8 bytes.
    const bytes = delivery.outputs.reduce((sum, output) => sum + output.length, 0);
    if (this.#queue.length > 0) {
      if (this.#queuedEvents + events > this.#options.maxQueued) {
        return Promise.reject(new NotStored(`${this.#queuedEvents} events already wait for the database`));
      }
      if (this.#queuedBytes + bytes > this.#options.maxQueuedBytes) {
        return Promise.reject(new NotStored(`${this.#queuedBytes} bytes of events already wait for the database`));
      }
    }
    return new Promise<IngestResult[]>((resolve, reject) => {
      const pending: Pending = { delivery, events, bytes, settled: false, resolve, reject };
      const timer = setTimeout(() => {
        if (pending.settled) return;
        const queued = this.#queue.indexOf(pending);
        if (queued >= 0) {
          this.#queue.splice(queued, 1);
          this.#queuedEvents -= pending.events;
          this.#queuedBytes -= pending.bytes;
        }
        this.#settle(pending, new NotStored(`not stored within ${this.#options.timeoutMs} ms`));
      }, this.#options.timeoutMs);
      pending.resolve = (results) => {
        clearTimeout(timer);
        resolve(results);
      };
      pending.reject = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      this.#queue.push(pending);
      this.#queuedEvents += events;
      this.#queuedBytes += bytes;
      this.#drain();
    });
  }

  get queued(): number {
    return this.#queuedEvents;
  }

  #settle(pending: Pending, outcome: IngestResult[] | Error): void {
    if (pending.settled) return;
    pending.settled = true;
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  #drain(): void {
    while (this.#inFlight < this.#options.slots && this.#queue.length > 0) {
      const batch: Pending[] = [];
      let events = 0;
      let bytes = 0;
      const fits = (next: Pending) =>
        events + next.events <= this.#options.maxEvents && bytes + next.bytes <= this.#options.maxBytes;
      while (this.#queue.length > 0 && (batch.length === 0 || fits(this.#queue[0]))) {
        const pending = this.#queue.shift()!;
        events += pending.events;
        bytes += pending.bytes;
        batch.push(pending);
      }
      this.#queuedEvents -= events;
      this.#queuedBytes -= bytes;
      this.#inFlight++;
      // A statement still unanswered long after its deliveries timed out (a connection gone silent:
      // TCP may take minutes to say so) gives its slot back, so the next deliveries do not wait on
      // it. Twice the timeout: those that queued behind it meanwhile have been answered 503 and
      // dropped by then, never to be stored after that answer.
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        clearTimeout(stalled);
        this.#inFlight--;
        this.#drain();
      };
      const stalled = setTimeout(release, 2 * this.#options.timeoutMs);
      this.#run(batch).finally(release);
    }
  }

  async #run(batch: Pending[]): Promise<void> {
    try {
      const results = await this.#options.store(batch.map((pending) => pending.delivery));
      batch.forEach((pending, i) => this.#settle(pending, results[i]));
    } catch (error) {
      if (batch.length > 1 && refusedData(error)) {
        // One delivery's data was refused and the statement rolled back: nothing is stored.
        // Store each again alone, so only the delivery at fault is refused.
        await Promise.all(batch.map((pending) => this.#run([pending])));
        return;
      }
      const reason = new NotStored((error as Error).message, { cause: error });
      for (const pending of batch) this.#settle(pending, reason);
    }
  }
}
