// The worker's outbound HTTP: undici with a connector that checks where each socket goes. Names
// are resolved once, by our lookup, and the addresses it returns are the ones connected to, so a
// DNS answer that changes between a check and the connect (rebinding) cannot slip through; IP
// literal hosts, which net.connect never looks up, are checked before connecting. This holds for
// every hop, redirects included. The rules are packages/nodes/src/net.ts.
import dns from "node:dns";
import type { LookupFunction } from "node:net";
import { PermanentError } from "@area/nodes/errors";
import type { FetchFunction } from "@area/nodes/fetch";
import { type AllowedHosts, destinationRefusal, refusalMessage } from "@area/nodes/net";
import { Agent, buildConnector, fetch, type RequestInit as UndiciRequestInit } from "undici";

export type Resolver = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

export interface EgressOptions {
  allowedHosts: AllowedHosts;
  /** The resolver; node:dns by default (tests give names their own addresses). */
  lookup?: Resolver;
}

export interface Egress {
  fetch: FetchFunction;
  /** Closes the pooled connections (on shutdown). */
  close(): Promise<void>;
}

export function createEgress({ allowedHosts, lookup = dns.lookup }: EgressOptions): Egress {
  const checkedLookup: LookupFunction = (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, "");
      const refusal = destinationRefusal(hostname, addresses.map((entry) => entry.address), allowedHosts);
      if (refusal) return callback(new PermanentError(refusalMessage(refusal)), "");
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
  const connect = buildConnector({ lookup: checkedLookup, timeout: 10_000 });
  const agent = new Agent({
    connect(options, callback) {
      // net.connect never looks up an IP literal: literals (and names refused as such) are judged here.
      const refusal = destinationRefusal(options.hostname, [], allowedHosts);
      if (refusal) return callback(new PermanentError(refusalMessage(refusal)), null);
      connect(options, callback);
    },
    // A worker calls a few providers over and over: keep their connections warm, a bounded number each.
    connections: 16,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
  });
  return {
    // The global fetch types come from Node's bundled undici, structurally the same as this version's.
    fetch: (input, init) => fetch(input, { ...init as UndiciRequestInit, dispatcher: agent }) as Promise<Response>,
    close: () => agent.close(),
  };
}
