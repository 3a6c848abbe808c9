// The NodeContext a node runs with: the egress-checked, classifying fetch, its connection's
// decrypted credentials (an OAuth2 token refreshed first when it expires soon: refresh.ts), a logger
// carrying the job's ids, and the job's abort signal.
import { nodeContext } from "@area/nodes/context";
import type { Keyring } from "@area/nodes/crypto";
import type { NodeContext, ServiceDefinition } from "@area/nodes/define";
import type { Logger } from "@area/nodes/log";
import type { AllowedHosts } from "@area/nodes/net";
import type pg from "pg";
import type { Egress } from "./egress.ts";
import { createRefresher, type Credentials } from "./refresh.ts";

export interface ContextOptions {
  service: string;
  connectionId: string | null;
  log: Logger;
  signal: AbortSignal;
}

export interface ContextFactory {
  (options: ContextOptions): Promise<NodeContext>;
  /**
   * The provider refused `rejected`'s access token (a 401): a context with the connection's refreshed
   * credentials, or null when they cannot be refreshed. Used through withTokenRefresh (refresh.ts).
   */
  afterRejection(options: ContextOptions, rejected: NodeContext): Promise<NodeContext | null>;
}

export function contextFactory(deps: {
  pool: pg.Pool;
  keyring: Keyring;
  catalogue: readonly ServiceDefinition[];
  egress: Egress;
  allowedHosts: AllowedHosts;
}): ContextFactory {
  const refresher = createRefresher({
    pool: deps.pool,
    keyring: deps.keyring,
    fetch: deps.egress.fetch,
    env: process.env,
  });
  const services = new Map(deps.catalogue.map((service) => [service.key, service]));
  const definitionOf = (service: string) => {
    const definition = services.get(service);
    if (!definition) throw new Error(`service ${service} is not served by this worker`);
    return definition;
  };
  const build = (definition: ServiceDefinition, options: ContextOptions, credentials: Credentials | null) =>
    nodeContext(definition, {
      fetch: deps.egress.fetch,
      allowedHosts: deps.allowedHosts,
      credentials,
      log: options.log,
      signal: options.signal,
      env: process.env,
    });

  const make = async (options: ContextOptions) => {
    const definition = definitionOf(options.service);
    const credentials = await refresher.credentials(definition, options.connectionId, options.log, options.signal);
    return build(definition, options, credentials);
  };
  return Object.assign(make, {
    async afterRejection(options: ContextOptions, rejected: NodeContext) {
      const definition = definitionOf(options.service);
      if (options.connectionId === null) return null;
      const credentials = await refresher.afterRejection(
        definition,
        options.connectionId,
        rejected.credentials,
        options.log,
        options.signal,
      );
      return credentials && build(definition, options, credentials);
    },
  });
}
