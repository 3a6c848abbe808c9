// Many callers, one round trip ("group commit"): calls made while the database is busy with
// earlier ones wait and then go out together, in ONE statement. The jobs of a batch start in the
// same turn of the event loop, and fast reactions finish in the same turn too, so a batch of N
// executions reads its events in one query and records its outcomes in one call instead of N.
// Nothing waits on a timer: a lone call goes out at the end of the turn it was made in.

export interface CoalesceOptions {
  /** Calls in flight at once; later items queue and go out together when one returns. */
  slots: number;
  /** Items per call at most. */
  maxItems: number;
  /**
   * Whether a failed call of several items is tried again item by item, so that one item's bad
   * data (the database refusing it) does not fail the items that happened to travel with it.
   */
  retrySingly?: (error: unknown) => boolean;
}

interface Queued<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Wraps `run`, which handles many items in one call and answers one result per item, in order,
 * into a function of one item.
 */
export function coalesce<T, R>(run: (items: T[]) => Promise<R[]>, options: CoalesceOptions): (item: T) => Promise<R> {
  let queue: Queued<T, R>[] = [];
  let inFlight = 0;
  let scheduled = false;

  const send = async (group: Queued<T, R>[]): Promise<void> => {
    try {
      const results = await run(group.map((queued) => queued.item));
      group.forEach((queued, i) => queued.resolve(results[i]));
    } catch (error) {
      if (group.length > 1 && options.retrySingly?.(error)) {
        await Promise.all(group.map((queued) => send([queued])));
      } else {
        for (const queued of group) queued.reject(error);
      }
    }
  };

  const drain = () => {
    scheduled = false;
    while (queue.length > 0 && inFlight < options.slots) {
      const group = queue.slice(0, options.maxItems);
      queue = queue.slice(group.length);
      inFlight++;
      void send(group).finally(() => {
        inFlight--;
        drain();
      });
    }
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      // At the end of this turn: the calls made in it so far travel together.
      if (!scheduled && inFlight < options.slots) {
        scheduled = true;
        setImmediate(drain);
      }
    });
}
