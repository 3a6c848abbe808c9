// Derives the catalogue document that public.sync_catalogue() stores, from the declarations.
// Param and output rows come from each zod schema's JSON Schema (zod 4), never written twice.
import { z } from "zod";
import type { ActionDefinition, Fields, ReactionDefinition, ServiceDefinition } from "./define.ts";

export type FieldType = "string" | "number" | "boolean" | "date" | "email" | "url" | "json" | "secret" | "enum";

export interface FieldRow {
  name: string;
  type: FieldType;
  required: boolean;
  default_value: unknown;
  placeholder: string | null;
  validation_regex: string | null;
  options: unknown[] | null;
  description: string | null;
  display_order: number;
}

type JsonSchema = {
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  placeholder?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  "x-area-type"?: FieldType;
  writeOnly?: boolean;
};

/**
 * `derive` computed once per schema (the declarations never change, and the worker and the api ask per
 * job and per request): the same object every time, never to be mutated.
 */
function oncePerSchema<T>(derive: (fields: Fields) => T): (fields: Fields) => T {
  const derived = new WeakMap<Fields, T>();
  return (fields) => {
    if (!derived.has(fields)) derived.set(fields, derive(fields));
    return derived.get(fields)!;
  };
}

/** The fields' JSON Schema (input side), derived once per schema: the same object every time, never to be mutated. */
export const jsonSchema = oncePerSchema((fields) =>
  z.toJSONSchema(fields, { io: "input", unrepresentable: "any" }) as JsonSchema
);

function fieldType(schema: JsonSchema): FieldType {
  if (schema["x-area-type"]) return schema["x-area-type"];
  if (schema.enum) return "enum";
  switch (schema.type) {
    case "string":
      return ({ uri: "url", email: "email", "date-time": "date" } as Record<string, FieldType>)[schema.format ?? ""] ??
        "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    default:
      return "json";
  }
}

/** One row per property, in declaration order. */
export function fieldRows(fields: Fields): FieldRow[] {
  const schema = jsonSchema(fields);
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property], index) => {
    const type = fieldType(property);
    return {
      name,
      type,
      // An unconstrained field ({}: z.unknown()) is never required, whatever JSON Schema says.
      required: required.has(name) && Object.keys(property).some((k) => k !== "description"),
      default_value: property.default ?? null,
      placeholder: property.placeholder ?? null,
      // Only a plain string's own pattern: email and date patterns are zod's, checked by type.
      validation_regex: type === "string" || type === "secret" ? property.pattern ?? null : null,
      options: property.enum ?? null,
      description: property.description ?? null,
      display_order: index,
    };
  });
}

function actionDocument(action: ActionDefinition) {
  return {
    key: action.key,
    name: action.name,
    description: action.description,
    polling_supported: action.trigger.polling !== undefined,
    webhook_supported: action.trigger.webhook !== undefined,
    requires_registration: action.trigger.webhook?.requiresRegistration ?? false,
    min_polling_interval_seconds: action.trigger.polling?.minIntervalSeconds ?? null,
    default_polling_interval_seconds: action.trigger.polling?.defaultIntervalSeconds ?? null,
    polling_interval_param: action.trigger.polling?.intervalParam ?? null,
    params_schema: jsonSchema(action.params),
    outputs_schema: jsonSchema(action.outputs),
    sample: action.sample,
    params: fieldRows(action.params),
    outputs: fieldRows(action.outputs).map(({ name, type, description, display_order }) => ({
      name,
      type,
      description,
      display_order,
    })),
  };
}

function reactionDocument(reaction: ReactionDefinition) {
  return {
    key: reaction.key,
    name: reaction.name,
    description: reaction.description,
    params_schema: jsonSchema(reaction.params),
    params: fieldRows(reaction.params),
  };
}

/** The document public.sync_catalogue(jsonb) takes. */
export function catalogueDocument(services: ServiceDefinition[]) {
  return {
    services: services.map((service) => ({
      key: service.key,
      name: service.name,
      description: service.description,
      icon: service.icon ?? null,
      auth_kind: service.auth,
      actions: service.actions.map(actionDocument),
      reactions: service.reactions.map(reactionDocument),
    })),
  };
}

/** The credentials' JSON Schema with its secret fields also `writeOnly`. */
const writeOnlySecrets = oncePerSchema((fields): JsonSchema => {
  const base = jsonSchema(fields);
  const properties = Object.fromEntries(
    Object.entries(base.properties ?? {}).map((
      [name, property],
    ) => [name, property["x-area-type"] === "secret" ? { ...property, writeOnly: true } : property]),
  );
  return { ...base, properties };
});

/**
 * The JSON Schema of what an api_key connection holds (the service's declared `apiKey.credentials`),
 * for a client's form; secret fields are also `writeOnly`: sent once, never shown again. Null for a
 * service that connects otherwise.
 */
export function credentialsSchema(service: ServiceDefinition): JsonSchema | null {
  const fields = service.apiKey?.credentials;
  return fields ? writeOnlySecrets(fields) : null;
}

const secretNames = oncePerSchema((fields) =>
  fieldRows(fields).filter((row) => row.type === "secret").map((row) => row.name)
);

/** `values` with every param typed `secret` replaced by "[redacted]": what execution logs may keep. */
export function redactSecrets(fields: Fields, values: Record<string, unknown>): Record<string, unknown> {
  const names = secretNames(fields);
  if (names.length === 0) return values;
  const redacted = { ...values };
  for (const name of names) if (redacted[name] !== undefined) redacted[name] = "[redacted]";
  return redacted;
}
