// Outbound HTTP for node code a function runs itself (an api_key connection's identity check), under
// the node fetch (packages/nodes/src/fetch.ts), which refuses private address literals and names.
// This also resolves a host name and refuses it when an address it resolves to is private, as the
// worker's egress does. Unlike the worker's, the check cannot pin the connect to those addresses
// (Deno's fetch resolves again): a name whose answer changes in between is not caught here. The
// hosts called come from the operator's configuration (DISCORD_API_URL, …), not from users.
import { PermanentError } from "../../../packages/nodes/src/errors.ts";
import type { FetchFunction } from "../../../packages/nodes/src/fetch.ts";
import {
  type AllowedHosts,
  destinationRefusal,
  parseAllowedHosts,
  parseIp,
  refusalMessage,
} from "../../../packages/nodes/src/net.ts";
import { env } from "./env.ts";

let rules: { allowedHosts: AllowedHosts; fetch: FetchFunction } | undefined;

/** The worker's egress rules (AREA_ALLOWED_HOSTS) and the checked fetch, for a node context's options. */
export function nodeEgress(): { allowedHosts: AllowedHosts; fetch: FetchFunction } {
  if (rules) return rules;
  const allowedHosts = parseAllowedHosts(env.AREA_ALLOWED_HOSTS);
  return rules = { allowedHosts, fetch: checkedFetch(allowedHosts) };
}

function checkedFetch(allowedHosts: AllowedHosts): FetchFunction {
  return async (url, init) => {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!allowedHosts.has(host) && parseIp(host) === null) {
      const refusal = destinationRefusal(host, await resolve(host), allowedHosts);
      if (refusal) throw new PermanentError(refusalMessage(refusal));
    }
    return await fetch(url, init);
  };
}

/** The host's A and AAAA addresses; none when it does not resolve (fetch then fails as a network error). */
async function resolve(host: string): Promise<string[]> {
  // Not every Deno host offers DNS lookups: the node fetch's checks of names and literals still hold.
  if (typeof Deno.resolveDns !== "function") return [];
  const answers = await Promise.allSettled([Deno.resolveDns(host, "A"), Deno.resolveDns(host, "AAAA")]);
  return answers.flatMap((answer) => answer.status === "fulfilled" ? answer.value : []);
}
