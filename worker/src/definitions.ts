// AREA definitions as the executor needs them, cached per AREA. Any write to an AREA notifies
// `area_changed` at commit (private.check_area); a dedicated listening connection drops the
// entry, and a lost listener clears the whole cache, so a stale definition never outlives a change.
import type { Logger } from "@area/nodes/log";
import pg from "pg";

export interface ReactionStep {
  id: string;
  position: number;
  service: string;
  key: string;
  connectionId: string | null;
  continueOnError: boolean;
  params: Record<string, unknown>;
}

export interface AreaDefinition {
  id: string;
  userId: string;
  enabled: boolean;
  condition: unknown;
  action: { service: string; key: string; connectionId: string | null };
  reactions: ReactionStep[];
}

const definitionQuery = `
  select a.id, a.user_id as "userId", a.enabled, a.condition,
         jsonb_build_object('service', s.key, 'key', sa.key, 'connectionId', aa.user_service_id) as action,
         coalesce((
           select jsonb_agg(jsonb_build_object(
             'id', ar.id, 'position', ar.position, 'service', rs.key, 'key', sr.key,
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
  join public.area_actions aa on aa.area_id = a.id
  join public.service_actions sa on sa.id = aa.service_action_id
  join public.services s on s.id = sa.service_id
  where a.id = $1`;

export class DefinitionCache {
  readonly #pool: pg.Pool;
  readonly #log: Logger;
  readonly #entries = new Map<string, Promise<AreaDefinition | null>>();
  readonly #maxEntries: number;
  #listener: pg.Client | null = null;
  #stopped = false;

  constructor(pool: pg.Pool, log: Logger, maxEntries = 10_000) {
    this.#pool = pool;
    this.#log = log;
    this.#maxEntries = maxEntries;
  }

  /** The AREA, or null when it was deleted. */
  get(areaId: string): Promise<AreaDefinition | null> {
    // Until the listener is up, changes could be missed: read through.
    if (!this.#listener) return this.#load(areaId);
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
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
    const retry = () => {
      if (this.#listener === client) this.#listener = null;
      this.#entries.clear();
      client.end().catch(() => {});
      if (!this.#stopped) setTimeout(() => void this.listen(connectionString), 1_000).unref();
    };
    client.on("error", (error) => {
      this.#log.warn("definition listener lost", { error: error.message });
      retry();
    });
    client.on("notification", (message) => {
      if (message.payload) this.#entries.delete(message.payload);
    });
    try {
      await client.connect();
      await client.query("listen area_changed");
      this.#entries.clear();
      this.#listener = client;
    } catch (error) {
      this.#log.warn("definition listener failed to connect", { error: (error as Error).message });
      retry();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const listener = this.#listener;
    this.#listener = null;
    await listener?.end().catch(() => {});
  }
}
