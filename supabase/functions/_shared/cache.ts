// A small in-memory cache for lookups by id, with a time to live, a bound on its size, and one
// shared load for concurrent lookups of the same id. Nothing here survives the isolate.

export interface LookupCacheOptions<T> {
  load: (id: string) => Promise<T | null>;
  /** How long a found value is reused, in milliseconds. */
  ttlMs: number;
  /** How long "not found" (null) is reused: shorter, it only shields the database from junk ids. */
  missTtlMs: number;
  /** The oldest entries go first beyond this many. */
  maxEntries: number;
  now?: () => number;
}

interface Entry<T> {
  expires: number;
  value: Promise<T | null>;
}

export class LookupCache<T> {
  #entries = new Map<string, Entry<T>>();
  #options: LookupCacheOptions<T>;
  #now: () => number;

  constructor(options: LookupCacheOptions<T>) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The cached value, or the one being loaded, or a new load; a load that fails is not kept. */
  get(id: string): Promise<T | null> {
    const now = this.#now();
    const cached = this.#entries.get(id);
    if (cached && cached.expires > now) return cached.value;
    if (cached) this.#entries.delete(id);
    const entry: Entry<T> = { expires: now + this.#options.ttlMs, value: this.#options.load(id) };
    // Map keeps insertion order and entries are inserted as they are loaded: the first is the oldest.
    while (this.#entries.size >= this.#options.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(id, entry);
    entry.value.then(
      (value) => {
        if (value === null) entry.expires = Math.min(entry.expires, this.#now() + this.#options.missTtlMs);
      },
      () => {
        if (this.#entries.get(id) === entry) this.#entries.delete(id);
      },
    );
    return entry.value;
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }
}
