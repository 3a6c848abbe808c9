// The NodeContext a node runs with: the egress-checked, classifying fetch, its connection's
// decrypted credentials, a logger carrying the job's ids, and the job's abort signal.
import { nodeContext } from "@area/nodes/context";
import type { Keyring } from "@area/nodes/crypto";
import type { NodeContext, ServiceDefinition } from "@area/nodes/define";
import type { Logger } from "@area/nodes/log";
import type { AllowedHosts } from "@area/nodes/net";
import type pg from "pg";
import { loadCredentials } from "./credentials.ts";
import type { Egress } from "./egress.ts";

export interface ContextFactory {
  (options: { service: string; connectionId: string | null; log: Logger; signal: AbortSignal }): Promise<NodeContext>;
}

export function contextFactory(deps: {
  pool: pg.Pool;
  keyring: Keyring;
  catalogue: readonly ServiceDefinition[];
  egress: Egress;
  allowedHosts: AllowedHosts;
}): ContextFactory {
  return async ({ service, connectionId, log, signal }) => {
    const definition = deps.catalogue.find((candidate) => candidate.key === service);
    if (!definition) throw new Error(`service ${service} is not served by this worker`);
    return nodeContext(definition, {
      fetch: deps.egress.fetch,
      allowedHosts: deps.allowedHosts,
      credentials: await loadCredentials(deps.pool, deps.keyring, connectionId),
      log,
      signal,
      env: process.env,
    });
  };
}
