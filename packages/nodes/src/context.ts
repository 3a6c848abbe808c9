// The NodeContext a node runs with, built one way for the worker (worker/src/context.ts) and the tests
// (tests/support/node_context.ts): the egress-checked, classifying node fetch over the runtime's fetch,
// `authenticates` from the service's auth kind, the connection's decrypted credentials, a logger, the
// job's abort signal and the operator's env. Runtime-neutral: Web APIs only.
import type { NodeContext, ServiceDefinition } from "./define.ts";
import { createNodeFetch, type FetchFunction } from "./fetch.ts";
import type { Logger } from "./log.ts";
import type { AllowedHosts } from "./net.ts";

export interface NodeContextOptions {
  /** The runtime's fetch, under the node fetch's egress rules, retries and classification. */
  fetch: FetchFunction;
  allowedHosts: AllowedHosts;
  credentials: Record<string, unknown> | null;
  log: Logger;
  /** The job's signal: aborts the node's requests too. */
  signal: AbortSignal;
  env: NodeContext["env"];
}

export function nodeContext(service: Pick<ServiceDefinition, "auth">, options: NodeContextOptions): NodeContext {
  return {
    fetch: createNodeFetch({
      fetch: options.fetch,
      allowedHosts: options.allowedHosts,
      // With credentials sent, a 401 means they are bad (AuthError), not a plain refusal.
      authenticates: service.auth !== "none",
      signal: options.signal,
    }),
    credentials: options.credentials,
    log: options.log,
    signal: options.signal,
    env: options.env,
  };
}
