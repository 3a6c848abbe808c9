// How a service declares itself. Everything else (catalogue rows, JSON Schemas, about.json,
// validation, docs) is derived from these declarations: see catalogue.ts.
import { z } from "zod";

export type AuthKind = "none" | "oauth2" | "api_key";

/** A parameter or output object: each property becomes a catalogue row. */
export type Fields = z.ZodObject;

export interface ActionDefinition {
  key: string;
  name: string;
  description: string;
  params: Fields;
  /** The action's return values: what `{{placeholders}}` in reaction params may name. */
  outputs: Fields;
  /** An example output, used for test runs and docs. */
  sample: Record<string, unknown>;
  /** How the trigger is detected. A webhook action may also need provider registration. */
  trigger: {
    /** `intervalParam` names a param whose value is the polling interval (a timer's period). */
    polling?: { minIntervalSeconds: number; defaultIntervalSeconds: number; intervalParam?: string };
    webhook?: { requiresRegistration: boolean };
  };
}

export interface ReactionDefinition {
  key: string;
  name: string;
  description: string;
  params: Fields;
}

export interface ServiceDefinition {
  key: string;
  name: string;
  description: string;
  icon?: string;
  auth: AuthKind;
  actions: ActionDefinition[];
  reactions: ReactionDefinition[];
}

/** A string the catalogue types as `secret`: write-only for clients, redacted from audit logs. */
export function secret(description: string) {
  return z.string().min(1).meta({ description, "x-area-type": "secret" });
}
