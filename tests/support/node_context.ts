// The contexts nodes get in tests, built by the worker's builder (packages/nodes/src/context.ts): the
// real node fetch (egress rules, retries, classification) over the runtime's fetch, `authenticates`
// from the service's auth kind, the connection's credentials as they are decrypted, and the operator's
// env. Only 127.0.0.1 is allowed, where the fakes listen.
import { nodeContext as buildNodeContext } from "../../packages/nodes/src/context.ts";
import type { NodeContext, PollContext, ReactionContext, ServiceDefinition } from "../../packages/nodes/src/define.ts";
import type { FetchFunction } from "../../packages/nodes/src/fetch.ts";
import { createLogger } from "../../packages/nodes/src/log.ts";
import { parseAllowedHosts } from "../../packages/nodes/src/net.ts";

export interface ContextOptions {
  credentials?: Record<string, unknown> | null;
  env?: Record<string, string | undefined>;
  /** The runtime fetch under the node fetch (default: globalThis.fetch). */
  fetch?: FetchFunction;
  /** What the log lines name as `test` (default: the service's key). */
  name?: string;
}

export function nodeContext(service: ServiceDefinition, options: ContextOptions = {}): NodeContext {
  return buildNodeContext(service, {
    fetch: options.fetch ?? globalThis.fetch,
    allowedHosts: parseAllowedHosts("127.0.0.1"),
    credentials: options.credentials ?? null,
    log: createLogger({ test: options.name ?? service.key }),
    signal: new AbortController().signal,
    env: options.env ?? {},
  });
}

export function reactionContext(
  service: ServiceDefinition,
  options: ContextOptions & { idempotencyKey?: string } = {},
): ReactionContext {
  return {
    ...nodeContext(service, options),
    idempotencyKey: options.idempotencyKey ??
      "6f1c0b7e-7d1a-4c55-9a53-0d6a3c1f2e10:2b8e4c1d-5f3a-4e7b-8c9d-1a2b3c4d5e6f",
  };
}

export function pollContext(
  service: ServiceDefinition,
  options: ContextOptions & { scheduledAt?: Date } = {},
): PollContext {
  return { ...nodeContext(service, options), hookJobId: "hook-1", scheduledAt: options.scheduledAt ?? new Date() };
}
