// The NodeContext a node runs with: the egress-checked, classifying fetch, its credentials, a
// logger carrying the job's ids, and the job's abort signal.
import type { NodeContext } from "@area/nodes/define";
import { createNodeFetch } from "@area/nodes/fetch";
import type { Logger } from "@area/nodes/log";
import type { AllowedHosts } from "@area/nodes/net";
import type { Egress } from "./egress.ts";

export interface ContextFactory {
  (options: {
    log: Logger;
    signal: AbortSignal;
    credentials: Record<string, unknown> | null;
    /** The node's service authenticates (a 401 then means its credentials are bad). */
    authenticates: boolean;
  }): NodeContext;
}

export function contextFactory(egress: Egress, allowedHosts: AllowedHosts): ContextFactory {
  return ({ log, signal, credentials, authenticates }) => ({
    fetch: createNodeFetch({ fetch: egress.fetch, allowedHosts, authenticates, signal }),
    credentials,
    log,
    signal,
    env: process.env,
  });
}
