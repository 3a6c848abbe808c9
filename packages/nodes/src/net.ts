// Where nodes may connect: globally routable addresses only, unless the operator lists a host in
// AREA_ALLOWED_HOSTS. A URL a user typed must never reach the platform's own network (the
// database, cloud metadata, admin ports). Runtime-neutral: fetch.ts applies it to every URL before
// connecting, and the worker to every resolved address at connect time (worker/src/egress.ts).

/** Why a destination is refused: the host asked for, the address at fault if any, and the rule. */
export interface Refusal {
  host: string;
  address?: string;
  rule: string;
}

/** The operator's exceptions, by host name or by IP address (any port). */
export interface AllowedHosts {
  has(hostOrAddress: string): boolean;
}

interface Range {
  /** 16 bytes: IPv4 ranges are stored IPv4-mapped (::ffff:a.b.c.d). */
  prefix: Uint8Array;
  bits: number;
  /** Why the range is refused; null for a routable range. */
  rule: string | null;
  /** For IPv6 ranges that carry an IPv4 address (NAT64, 6to4): its byte offset; that address decides. */
  embedsIpv4At?: number;
}

// The most specific matching range decides, so a /32 inside a refused /16 can carry its own rule
// and the two catch-alls (0.0.0.0/0 routable, ::/0 reserved) give the default of each family.
// Sources: the IANA IPv4 and IPv6 special-purpose address registries, and cloud metadata endpoints.
const RANGES: Range[] = ([
  ["0.0.0.0/0", null],
  ["0.0.0.0/8", "unspecified address"],
  ["10.0.0.0/8", "private network"],
  ["100.64.0.0/10", "carrier-grade NAT"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["169.254.169.254/32", "cloud metadata"],
  ["172.16.0.0/12", "private network"],
  ["192.0.0.0/24", "IETF protocol assignments"],
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "6to4 relay anycast"],
  ["192.168.0.0/16", "private network"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
  ["255.255.255.255/32", "broadcast"],
  // Only global unicast (2000::/3) is routable; IPv4-compatible ::a.b.c.d and 64:ff9b:1::/48 fall in ::/0.
  ["::/0", "reserved"],
  ["::/128", "unspecified address"],
  ["::1/128", "loopback"],
  ["64:ff9b::/96", "NAT64", 12],
  ["100::/64", "discard-only"],
  ["2000::/3", null],
  ["2001::/23", "IETF protocol assignments"],
  ["2001:db8::/32", "documentation"],
  ["2002::/16", "6to4", 2],
  ["fc00::/7", "private network"],
  ["fd00:ec2::254/128", "cloud metadata"],
  ["fe80::/10", "link-local"],
  ["ff00::/8", "multicast"],
] as [string, string | null, number?][]).map(([cidr, rule, embedsIpv4At]) => {
  const [address, bits] = cidr.split("/");
  const ipv4 = !address.includes(":");
  return { prefix: parseIp(address)!, bits: Number(bits) + (ipv4 ? 96 : 0), rule, embedsIpv4At };
});

// Names that reach internal services whatever a resolver says (RFC 6761 localhost, GCE metadata).
const REFUSED_NAMES: [RegExp, string][] = [
  [/^(.+\.)?localhost$/, "loopback"],
  [/^metadata\.google\.internal$/, "cloud metadata"],
];

/**
 * The 16 bytes of an IP literal (IPv4 as IPv4-mapped IPv6), or null when `text` is not one.
 * Accepts brackets and a zone id (`[fe80::1%eth0]`). IPv4 must be dotted decimal without leading
 * zeros, the form URLs and resolvers produce; anything else is a name, resolved and checked then.
 */
export function parseIp(text: string): Uint8Array | null {
  const literal = text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  if (literal.includes(":")) return parseIpv6(literal);
  const ipv4 = parseIpv4(literal);
  return ipv4 && Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ipv4);
}

function parseIpv4(text: string): number[] | null {
  const parts = text.split(".");
  const valid = parts.length === 4 && parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255);
  return valid ? parts.map(Number) : null;
}

function parseIpv6(text: string): Uint8Array | null {
  // A trailing dotted IPv4 (::ffff:1.2.3.4) stands for the last two 16-bit words.
  const dotted = /^(.*:)([^:]*\.[^:]*)$/.exec(text);
  if (dotted) {
    const ipv4 = parseIpv4(dotted[2]);
    if (!ipv4) return null;
    text = `${dotted[1]}${((ipv4[0] << 8) | ipv4[1]).toString(16)}:${((ipv4[2] << 8) | ipv4[3]).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const [head, tail] = halves.map((half) => (half === "" ? [] : half.split(":")));
  const missing = 8 - head.length - (tail?.length ?? 0);
  if (tail ? missing < 1 : missing !== 0) return null;
  const words = [...head, ...Array<string>(missing).fill("0"), ...(tail ?? [])];
  if (!words.every((word) => /^[0-9a-f]{1,4}$/i.test(word))) return null;
  return Uint8Array.from(words.flatMap((word) => [parseInt(word, 16) >> 8, parseInt(word, 16) & 0xff]));
}

function inRange(address: Uint8Array, range: Range): boolean {
  const whole = range.bits >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== range.prefix[i]) return false;
  const mask = (0xff00 >> (range.bits & 7)) & 0xff;
  return mask === 0 || (address[whole] & mask) === (range.prefix[whole] & mask);
}

/** Why an address must not be contacted (e.g. "private network"), or null when it is globally routable. */
export function addressRule(address: Uint8Array): string | null {
  const range = RANGES.filter((candidate) => inRange(address, candidate))
    .reduce((best, candidate) => (candidate.bits > best.bits ? candidate : best));
  if (range.embedsIpv4At === undefined) return range.rule;
  const embedded = address.subarray(range.embedsIpv4At, range.embedsIpv4At + 4);
  const rule = addressRule(parseIp(embedded.join("."))!);
  return rule && `${rule} inside ${range.rule}`;
}

/** Lower case, without brackets or a trailing dot: the form hosts are compared in. */
function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
}

/** Equal for equal addresses whatever their spelling (::1, 0::1, ::ffff:7f00:1 and 127.0.0.1 pairwise). */
function hostKey(host: string): string {
  const name = normalizeHost(host);
  const ip = parseIp(name);
  return ip ? `ip:${ip.join(".")}` : name;
}

/**
 * Parses AREA_ALLOWED_HOSTS: comma-separated host names or IP literals, case-insensitive, spaces
 * ignored. An entry allows every port of that host; a port, scheme or path is a configuration
 * error (thrown), never silently widened or ignored.
 */
export function parseAllowedHosts(value: string | undefined): AllowedHosts {
  const keys = new Set<string>();
  for (const entry of (value ?? "").split(",").map((part) => part.trim()).filter(Boolean)) {
    const name = normalizeHost(entry);
    if (!parseIp(name) && !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(name)) {
      throw new Error(
        `AREA_ALLOWED_HOSTS: "${entry}" is not a host name or IP address (list hosts without scheme, port or path; a listed host is allowed on every port)`,
      );
    }
    keys.add(hostKey(name));
  }
  return { has: (hostOrAddress) => keys.has(hostKey(hostOrAddress)) };
}

/**
 * Why `host` must not be contacted at `addresses` (what it resolved to; for an IP literal host the
 * host itself is checked), or null. A listed host is allowed whatever it resolves to; a listed
 * address is allowed whatever name led to it. One refused address refuses the host: a name
 * resolving to both public and private addresses is exactly what DNS rebinding looks like.
 */
export function destinationRefusal(
  host: string,
  addresses: readonly string[],
  allowed: AllowedHosts,
): Refusal | null {
  const name = normalizeHost(host);
  if (allowed.has(name)) return null;
  const literal = parseIp(name) !== null;
  const named = literal ? undefined : REFUSED_NAMES.find(([pattern]) => pattern.test(name));
  if (named) return { host: name, rule: named[1] };
  for (const address of literal ? [name] : addresses) {
    if (allowed.has(address)) continue;
    const ip = parseIp(address);
    const rule = ip ? addressRule(ip) : "not an IP address";
    if (rule) return { host: name, address, rule };
  }
  return null;
}

/** The message a refused destination fails with: what was refused, by which rule, and the way out. */
export function refusalMessage({ host, address, rule }: Refusal): string {
  const what = address === undefined
    ? `host ${host}`
    : address === host
    ? `address ${address}`
    : `address ${address} for host ${host}`;
  return `refused ${what} (${rule}); add the host to AREA_ALLOWED_HOSTS to allow it`;
}
