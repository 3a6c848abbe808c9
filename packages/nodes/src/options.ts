// Dynamic param options: a param whose values come from the provider through the user's connection
// (a repository, a channel), declared once on the field with withOptions(). The field's JSON Schema
// says `"x-area-options": true`, so the catalogue tells frontends to offer a picker; the api serves
// the choices at GET /api/services/{service}/options/{param}?connection_id=…, found with optionsLoader().
import { z } from "zod";
import type { NodeContext, ServiceDefinition } from "./define.ts";
import { PermanentError } from "./errors.ts";

/** One choice: what the param is set to, and what the user reads. */
export interface ParamOption {
  value: string;
  label: string;
}

export interface OptionsQuery {
  /** The `next_cursor` of the previous page; absent for the first page. */
  cursor?: string;
  /** Keep only the options whose label or value contains it (case-insensitive). */
  q?: string;
}

export interface OptionsPage {
  options: ParamOption[];
  /** Pass as `cursor` for the next page; absent on the last one. */
  next_cursor?: string;
}

/**
 * Lists a param's choices with the connection's credentials (ctx.credentials). Provider failures keep
 * the node fetch's classes (AuthError, RetryableError, PermanentError); a cursor it never issued is an
 * InvalidOptionsCursor.
 */
export type OptionsLoader = (ctx: NodeContext, query: OptionsQuery) => Promise<OptionsPage>;

/** A cursor the loader did not issue: the client's mistake, not the provider's. */
export class InvalidOptionsCursor extends PermanentError {
  override name = "InvalidOptionsCursor";
  constructor(cursor: string) {
    super(`cursor: "${cursor.slice(0, 40)}" is not a cursor this list issued (pass the previous page's next_cursor)`);
  }
}

/**
 * The loaders, by field. A zod registry inherits along clones (`.meta()`, `.trim()`, … keep their
 * parent), so a field declared with withOptions() keeps its loader through further refinements. It
 * holds the loader's index in `registered`: zod's metadata typing would rewrite a function's type.
 */
const loaders = z.registry<{ loader: number }>();
const registered: OptionsLoader[] = [];

/** `field`, marked as having choices that `load` lists; its JSON Schema gets `"x-area-options": true`. */
export function withOptions<T extends z.ZodType>(field: T, load: OptionsLoader): T {
  const marked = field.meta({ "x-area-options": true }) as T;
  loaders.add(marked, { loader: registered.push(load) - 1 });
  return marked;
}

/** The loader of a field, looking through optional/default/nullable wrappers and pipes (preprocess). */
function loaderOf(field: z.ZodType): OptionsLoader | undefined {
  for (let current: z.ZodType | undefined = field; current;) {
    const found = loaders.get(current)?.loader;
    if (found !== undefined) return registered[found];
    const def = current.def as { innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType };
    current = def.innerType ?? (def.in instanceof z.ZodTransform ? def.out : def.in);
  }
  return undefined;
}

const byService = new WeakMap<ServiceDefinition, Map<string, OptionsLoader>>();

/**
 * The service's params with choices, by name, over all its actions and reactions. One name lists one
 * thing: two nodes naming a param alike with different loaders is a declaration error.
 */
export function optionsLoaders(service: ServiceDefinition): Map<string, OptionsLoader> {
  let found = byService.get(service);
  if (found) return found;
  found = new Map();
  for (const node of [...service.actions, ...service.reactions]) {
    for (const [name, field] of Object.entries(node.params.shape)) {
      const load = loaderOf(field as z.ZodType);
      if (!load) continue;
      if (found.has(name) && found.get(name) !== load) {
        throw new Error(`${service.key}: param "${name}" has two different option loaders (${node.key} differs)`);
      }
      found.set(name, load);
    }
  }
  byService.set(service, found);
  return found;
}

/** The loader of the service's param `param`, or undefined when it has no dynamic choices. */
export function optionsLoader(service: ServiceDefinition, param: string): OptionsLoader | undefined {
  return optionsLoaders(service).get(param);
}

/** Whether an option matches the `q` filter: its label or value contains it, case-insensitive. */
export function matchesQuery(option: ParamOption, q: string | undefined): boolean {
  const needle = q?.trim().toLowerCase();
  if (!needle) return true;
  return option.label.toLowerCase().includes(needle) || option.value.toLowerCase().includes(needle);
}
