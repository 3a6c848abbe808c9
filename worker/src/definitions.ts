// AREA definitions as the executor needs them, cached per AREA. Any write to an AREA notifies
// `area_changed` at commit (private.check_area); a dedicated listening connection drops the
// entry, and a lost listener clears the whole cache, so a stale definition never outlives a change.
import type { Logger } from "@area/nodes/log";
import type pg from "pg";
import { type Listener, listenWithReconnect } from "./listen.ts";

export interface ReactionStep {
  id: string;
  service: string;
  key: string;
  connectionId: string | null;
  continueOnError: boolean;
  params: Record<string, unknown>;
}

/** What an execution reads of its AREA (an event's AREA always has its action: the event's hook job needs it). */
export interface AreaDefinition {
  condition: unknown;
  reactions: ReactionStep[];
}

const definitionQuery = `
  select a.condition,
         coalesce((
           select jsonb_agg(jsonb_build_object(
             'id', ar.id, 'service', rs.key, 'key', sr.key,
             'connectionId', ar.user_service_id, 'continueOnError', ar.continue_on_error,
             'params', coalesce((
               select jsonb_object_agg(p.name, v.value)
               from public.area_reaction_param_values v join public.service_reaction_params p on p.id = v.param_id
               where v.area_reaction_id = ar.id), '{}')) order by ar.position)
           from public.area_reactions ar
           join public.service_reactions sr on sr.id = ar.service_reaction_id
           join public.services rs on rs.id = sr.service_id
           where ar.area_id = a.id), '[]') as reactions
  from public.areas a
  where a.id = $1`;

export class DefinitionCache {
  readonly #pool: pg.Pool;
  readonly #log: Logger;
  readonly #entries = new Map<string, Promise<AreaDefinition | null>>();
  readonly #maxEntries: number;
  #listener: Listener | null = null;
  #stopped = false;

  constructor(pool: pg.Pool, log: Logger, maxEntries = 10_000) {
    this.#pool = pool;
    this.#log = log;
    this.#maxEntries = maxEntries;
  }

  /** The AREA, or null when it was deleted. */
  get(areaId: string): Promise<AreaDefinition | null> {
    // Until the listener is up, changes could be missed: read through.
    if (!this.#listener?.listening) return this.#load(areaId);
    let entry = this.#entries.get(areaId);
    if (!entry) {
      if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
      entry = this.#load(areaId);
      entry.catch(() => this.#entries.delete(areaId));
      this.#entries.set(areaId, entry);
    }
    return entry;
  }

  async #load(areaId: string): Promise<AreaDefinition | null> {
    const { rows } = await this.#pool.query<AreaDefinition>(definitionQuery, [areaId]);
    return rows[0] ?? null;
  }

  /** Listens for changes; reconnects by itself until stop(). */
  async listen(connectionString: string): Promise<void> {
    if (this.#stopped) return;
    this.#listener = listenWithReconnect({
      connectionString,
      name: "definition listener",
      log: this.#log,
      listen: async (client) => {
        await client.query("listen area_changed");
      },
      onNotification: (areaId) => this.#entries.delete(areaId),
      onListening: () => this.#entries.clear(),
      onLost: () => this.#entries.clear(),
    });
    await this.#listener.started;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#listener?.stop();
  }
}
