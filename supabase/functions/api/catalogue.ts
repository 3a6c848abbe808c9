// The live catalogue: what sync_catalogue() stored from packages/nodes and left active. about.json,
// GET /services and the checks of POST /areas read it from here, kept in memory for a minute
// (it changes only when a release syncs it).
import { LookupCache } from "../_shared/cache.ts";
import { sql } from "../_shared/db.ts";
import type { Enums, Json } from "../_shared/database.types.ts";

export interface CatalogueParam {
  name: string;
  type: Enums<"param_type">;
  required: boolean;
  default_value: Json | null;
  options: Json[] | null;
  description: string | null;
}

export interface CatalogueReaction {
  key: string;
  name: string;
  description: string;
  params_schema: Json;
  params: CatalogueParam[];
}

export interface CatalogueAction extends CatalogueReaction {
  outputs_schema: Json;
  sample: Record<string, Json>;
  polling_supported: boolean;
  webhook_supported: boolean;
  min_polling_interval_seconds: number | null;
  default_polling_interval_seconds: number | null;
}

export interface CatalogueService {
  key: string;
  name: string;
  description: string;
  icon: string | null;
  auth_kind: Enums<"auth_kind">;
  actions: CatalogueAction[];
  reactions: CatalogueReaction[];
}

const cache = new LookupCache<CatalogueService[]>({
  load: () => load(),
  ttlMs: 60_000,
  missTtlMs: 60_000,
  maxEntries: 1,
});
async function load(): Promise<CatalogueService[]> {
  const [{ services }] = await sql<{ services: CatalogueService[] }[]>`
    select coalesce(jsonb_agg(jsonb_build_object(
      'key', s.key, 'name', s.name, 'description', s.description, 'icon', s.icon, 'auth_kind', s.auth_kind,
      'actions', coalesce((
        select jsonb_agg(jsonb_build_object(
          'key', a.key, 'name', a.name, 'description', a.description,
          'params_schema', a.params_schema, 'outputs_schema', a.outputs_schema, 'sample', a.sample,
          'polling_supported', a.polling_supported, 'webhook_supported', a.webhook_supported,
          'min_polling_interval_seconds', a.min_polling_interval_seconds,
          'default_polling_interval_seconds', a.default_polling_interval_seconds,
          'params', coalesce((
            select jsonb_agg(jsonb_build_object('name', p.name, 'type', p.type, 'required', p.required,
                                                'default_value', p.default_value, 'options', p.options,
                                                'description', p.description) order by p.display_order)
            from public.service_action_params p where p.action_id = a.id), '[]')) order by a.key)
        from public.service_actions a where a.service_id = s.id and a.active), '[]'),
      'reactions', coalesce((
        select jsonb_agg(jsonb_build_object(
          'key', r.key, 'name', r.name, 'description', r.description, 'params_schema', r.params_schema,
          'params', coalesce((
            select jsonb_agg(jsonb_build_object('name', p.name, 'type', p.type, 'required', p.required,
                                                'default_value', p.default_value, 'options', p.options,
                                                'description', p.description) order by p.display_order)
            from public.service_reaction_params p where p.reaction_id = r.id), '[]')) order by r.key)
        from public.service_reactions r where r.service_id = s.id and r.active), '[]')
    ) order by s.key), '[]') as services
    from public.services s where s.active`;
  return services;
}

/** The active services with their active actions and reactions, sorted by key. */
export async function catalogue(): Promise<CatalogueService[]> {
  return (await cache.get("all"))!; // load() never answers null
}
