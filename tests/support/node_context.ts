// The contexts nodes get in tests, built as the worker builds them (worker/src/context.ts): the real
// node fetch (egress rules, retries, classification) over the runtime's fetch, `authenticates` from
// the service's auth kind, the connection's credentials as they are decrypted, and the operator's env.
// Only 127.0.0.1 is allowed, where the fakes listen.
import type { NodeContext, PollContext, ReactionContext, ServiceDefinition } from "../../packages/nodes/src/define.ts";
import { createNodeFetch } from "../../packages/nodes/src/fetch.ts";
import { createLogger } from "../../packages/nodes/src/log.ts";
import { parseAllowedHosts } from "../../packages/nodes/src/net.ts";

export interface ContextOptions {
  credentials?: Record<string, unknown> | null;
  env?: Record<string, string | undefined>;
}

export function nodeContext(service: ServiceDefinition, options: ContextOptions = {}): NodeContext {
  const signal = new AbortController().signal;
  return {
    fetch: createNodeFetch({
      fetch: globalThis.fetch,
      allowedHosts: parseAllowedHosts("127.0.0.1"),
      authenticates: service.auth !== "none",
      signal,
    }),
    credentials: options.credentials ?? null,
    log: createLogger({ test: service.key }),
    signal,
    env: options.env ?? {},
  };
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

export function pollContext(service: ServiceDefinition, options: ContextOptions = {}): PollContext {
  return { ...nodeContext(service, options), hookJobId: "hook-1", scheduledAt: new Date() };
}
