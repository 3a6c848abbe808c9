import assert from "node:assert/strict";
import { test } from "node:test";
import { addressRule, destinationRefusal, parseAllowedHosts, parseIp, refusalMessage } from "./net.ts";

const nothingAllowed = parseAllowedHosts(undefined);

test("addresses are judged by the most specific special-purpose range", () => {
  const verdicts: [string, string | null][] = [
    ["8.8.8.8", null],
    ["1.1.1.1", null],
    ["172.32.0.1", null],
    ["100.128.0.1", null],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["0.0.0.0", "unspecified address"],
    ["0.1.2.3", "unspecified address"],
    ["10.0.0.5", "private network"],
    ["172.16.0.1", "private network"],
    ["172.31.255.255", "private network"],
    ["192.168.1.1", "private network"],
    ["169.254.1.1", "link-local"],
    ["169.254.169.254", "cloud metadata"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.255", "carrier-grade NAT"],
    ["192.0.0.192", "IETF protocol assignments"],
    ["192.0.2.1", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["198.19.255.255", "benchmarking"],
    ["224.0.0.1", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "broadcast"],
    ["2606:4700:4700::1111", null],
    ["[2a00:1450:4007:80e::200e]", null],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["::", "unspecified address"],
    ["fc00::1", "private network"],
    ["fd12:3456::1", "private network"],
    ["fd00:ec2::254", "cloud metadata"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "documentation"],
    ["::ffff:8.8.8.8", null],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["[::ffff:10.0.0.1]", "private network"],
    ["::ffff:169.254.169.254", "cloud metadata"],
    ["64:ff9b::8.8.8.8", null],
    ["64:ff9b::10.0.0.1", "private network inside NAT64"],
    ["64:ff9b::7f00:1", "loopback inside NAT64"],
    ["2002:808:808::1", null],
    ["2002:c0a8:101::1", "private network inside 6to4"],
    ["::127.0.0.1", "reserved"],
    ["1::", "reserved"],
  ];
  for (const [address, rule] of verdicts) {
    const ip = parseIp(address);
    assert.ok(ip, `${address} parses`);
    assert.equal(addressRule(ip), rule, address);
  }
});

test("only IP literals parse; names and malformed forms are not addresses", () => {
  for (
    const text of ["example.org", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1:2:3:4:5:6:7:8:9", "1::2::3", ":::"]
  ) {
    assert.equal(parseIp(text), null, text);
  }
  assert.deepEqual(parseIp("::ffff:1.2.3.4"), parseIp("1.2.3.4"));
  assert.deepEqual(parseIp("1:2:3:4:5:6:7::"), parseIp("1:2:3:4:5:6:7:0"));
});

test("destinations: IP literal hosts, refused names, resolved addresses", () => {
  assert.deepEqual(destinationRefusal("10.0.0.5", [], nothingAllowed), {
    host: "10.0.0.5",
    address: "10.0.0.5",
    rule: "private network",
  });
  assert.deepEqual(destinationRefusal("[::1]", [], nothingAllowed), { host: "::1", address: "::1", rule: "loopback" });
  assert.equal(destinationRefusal("localhost", [], nothingAllowed)?.rule, "loopback");
  assert.equal(destinationRefusal("api.localhost", [], nothingAllowed)?.rule, "loopback");
  assert.equal(destinationRefusal("Metadata.Google.Internal.", [], nothingAllowed)?.rule, "cloud metadata");
  assert.equal(destinationRefusal("example.org", [], nothingAllowed), null, "names are judged by what they resolve to");
  assert.equal(
    destinationRefusal("example.org", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"], nothingAllowed),
    null,
  );
  // One private answer among public ones refuses the name: that is what DNS rebinding looks like.
  const rebound = destinationRefusal("internal.example", ["93.184.215.14", "10.0.0.5"], nothingAllowed)!;
  assert.equal(
    refusalMessage(rebound),
    "refused address 10.0.0.5 for host internal.example (private network); add the host to AREA_ALLOWED_HOSTS to allow it",
  );
  assert.equal(
    refusalMessage(destinationRefusal("10.0.0.5", [], nothingAllowed)!),
    "refused address 10.0.0.5 (private network); add the host to AREA_ALLOWED_HOSTS to allow it",
  );
});

test("AREA_ALLOWED_HOSTS: names and addresses, any spelling, any port", () => {
  const allowed = parseAllowedHosts(" Receiver.Internal , 127.0.0.1,, [::1] ,fd00::5 ");
  assert.equal(
    destinationRefusal("receiver.internal", ["10.1.2.3"], allowed),
    null,
    "a listed name, whatever it resolves to",
  );
  assert.equal(destinationRefusal("RECEIVER.internal.", [], allowed), null);
  assert.equal(destinationRefusal("127.0.0.1", [], allowed), null);
  assert.equal(destinationRefusal("::ffff:127.0.0.1", [], allowed), null, "the same address in IPv4-mapped form");
  assert.equal(destinationRefusal("0:0::1", [], allowed), null);
  assert.equal(destinationRefusal("[fd00:0::5]", [], allowed), null);
  assert.equal(
    destinationRefusal("other.internal", ["127.0.0.1"], allowed),
    null,
    "a listed address, whatever name led to it",
  );
  assert.equal(destinationRefusal("other.internal", ["127.0.0.2"], allowed)?.rule, "loopback");
  assert.equal(
    destinationRefusal("localhost", [], allowed)?.rule,
    "loopback",
    "listing 127.0.0.1 does not list the name localhost",
  );
  assert.ok(parseAllowedHosts("localhost").has("LOCALHOST"));
  assert.equal(parseAllowedHosts("").has(""), false);
  for (
    const bad of ["receiver.internal:8080", "[::1]:80", "http://receiver.internal", "receiver.internal/path", "a b"]
  ) {
    assert.throws(() => parseAllowedHosts(bad), /AREA_ALLOWED_HOSTS: ".*" is not a host name or IP address/, bad);
  }
});
