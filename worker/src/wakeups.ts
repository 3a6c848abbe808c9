// Wake-ups of the queue workers when a job is due now. pg-boss's own listener (useListenNotify)
// wakes EVERY fetch loop of the queue for each notification, so with N loops one job costs N
// fetches, N-1 of which come back empty (all of them while a busy user's group is at its cap):
// on a small machine those empty fetches are a good part of the database's work at a steady
// trickle of events. This listener, on the same channel, wakes ONE idle loop per notification,
// taking turns. When every loop is busy it flags them all, as pg-boss does, so whichever finishes
// first fetches at once; after a (re)connect, when notifications may have been missed, it wakes
// every loop. A lost listener only costs latency: the loops still poll (pollingIntervalSeconds).
import type { Logger } from "@area/nodes/log";
import type { PgBoss } from "pg-boss";
// Not re-exported by the package; the pinned version makes this deep import stable.
import * as plans from "pg-boss/dist/plans.js";
import { type Listener, listenWithReconnect } from "./listen.ts";

/** pg-boss's NOTIFY channel for the schema "pgboss", as pg-boss names it (the migrations send on it). */
const channelQuery = `select ${plans.notifyChannelSql("pgboss")} as channel`;

export class JobWakeups {
  readonly #boss: () => PgBoss;
  readonly #log: Logger;
  /** Per queue, where the next search for an idle loop starts (taking turns). */
  readonly #turns = new Map<string, number>();
  #listener: Listener | null = null;
  #stopped = false;

  /** `boss` gives the current instance (the worker may replace it while waiting for the database). */
  constructor(boss: () => PgBoss, log: Logger) {
    this.#boss = boss;
    this.#log = log;
  }

  /** Wakes one idle fetch loop of the queue; with none idle, flags them all to fetch when done. */
  wake(queue: string): void {
    const boss = this.#boss();
    const loops = boss.getWipData().filter((loop) => loop.name === queue);
    if (loops.length === 0) return;
    const start = this.#turns.get(queue) ?? 0;
    for (let i = 0; i < loops.length; i++) {
      const loop = loops[(start + i) % loops.length];
      if (loop.count === 0) {
        this.#turns.set(queue, (start + i + 1) % loops.length);
        boss.notifyWorker(loop.id);
        return;
      }
    }
    for (const loop of loops) boss.notifyWorker(loop.id);
  }

  /** Every loop of every queue fetches once: what was notified while nobody listened is found. */
  wakeAll(): void {
    const boss = this.#boss();
    for (const loop of boss.getWipData()) boss.notifyWorker(loop.id);
  }

  /** Listens on pg-boss's channel; reconnects by itself until stop(). */
  async listen(connectionString: string): Promise<void> {
    if (this.#stopped) return;
    this.#listener = listenWithReconnect({
      connectionString,
      keepAlive: true,
      name: "job wake-up listener",
      log: this.#log,
      listen: async (client) => {
        const { rows: [{ channel }] } = await client.query<{ channel: string }>(channelQuery);
        await client.query(`listen "${channel}"`);
      },
      onNotification: (queue) => this.wake(queue),
      onListening: () => this.wakeAll(),
    });
    await this.#listener.started;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#listener?.stop();
  }
}
