import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { NodeOverlay } from "../model.js";
import { OverlayOwnInvalidError } from "../errors.js";
import { overlayDesired } from "./desired.js";
import { host, OPTS } from "./testkit.js";

const skippedOf = (own: NodeOverlay, peers: NodeOverlay[]) => overlayDesired(own, peers, OPTS).skipped.map((s) => [s.node, s.reason]);

describe("overlayDesired", () => {
  it("gives this node the DC/OS devices: vtep1024 on its VTEP address, m-dcos and d-dcos on the halves of its subnet", () => {
    const { desired, skipped } = overlayDesired(host(1), [], OPTS);
    expect(skipped).toEqual([]);
    expect(desired.vtep).toEqual({ name: "vtep1024", vni: 1024, port: 64000, local: "10.83.0.1", mac: "70:b3:d5:00:00:01", mtu: 1450, addr: "44.128.0.1/20", addr6: "fd01:a::1/64" });
    expect(desired.bridges).toEqual([
      { name: "m-dcos", addr: "9.0.1.1/25", addr6: "fd01:b::1:0:0:1/81", mtu: 1450 },
      { name: "d-dcos", addr: "9.0.1.129/25", addr6: "fd01:b::1:8000:0:1/81", mtu: 1450 },
    ]);
  });

  it("direct routing: the underlay's subnet is kept as its network; one that does not hold the agent address, or a bad device name, is this node's error", () => {
    expect(overlayDesired(host(1), [host(2)], { ...OPTS, direct: { dev: "eth0", net: "10.83.0.1/24" } }).desired.direct).toEqual({ dev: "eth0", net: "10.83.0.0/24" });
    expect(overlayDesired(host(1), [host(2)], OPTS).desired.direct).toBeUndefined();
    expect(() => overlayDesired(host(1), [], { ...OPTS, direct: { dev: "eth0", net: "10.84.0.1/24" } })).toThrow(OverlayOwnInvalidError);
    expect(() => overlayDesired(host(1), [], { ...OPTS, direct: { dev: "eth0", net: "fd00::1/64" } })).toThrow(/does not hold the agent address 10\.83\.0\.1/);
    expect(() => overlayDesired(host(1), [], { ...OPTS, direct: { dev: "eth0 proto 4", net: "10.83.0.1/24" } })).toThrow(/not an interface name/);
  });

  it("without IPv6 facts there are no IPv6 addresses, and peers' IPv6 facts are dropped, not judged", () => {
    const bad6 = { ...host(2), vtepIp6: "not-an-address" };
    const { desired, skipped } = overlayDesired(host(1, false), [bad6], OPTS);
    expect(desired.vtep.addr6).toBeUndefined();
    expect(desired.bridges.map((b) => b.addr6)).toEqual([undefined, undefined]);
    expect(skipped).toEqual([]);
    expect(desired.peers.get("h2")).toEqual(host(2, false));
  });

  it("writes peers in the kernel's text forms, in node id order, and leaves this node out", () => {
    const loud: NodeOverlay = { ...host(3), vtepMac: "70:B3:D5:00:00:03", subnet6: "fd01:b::3:0:0:0/80", vtepIp6: "FD01:A:0::3" };
    const { desired } = overlayDesired(host(1), [loud, host(2), host(1)], OPTS);
    expect([...desired.peers.keys()]).toEqual(["h2", "h3"]);
    expect(desired.peers.get("h3")).toEqual(host(3));
  });

  it("skips a peer whose facts would misroute, with a reason, and programs the rest", () => {
    const peers = [
      host(2, true, { vtepIp: "44.129.0.2" }), // outside 44.128.0.0/20
      host(3, true, { vtepMac: "01:00:5e:00:00:03" }), // multicast
      host(4, true, { subnet: "9.0.4.0/23" }), // not a /24
      host(5, true, { subnet: "9.0.5.7/24" }), // host bits set
      host(6, true, { agentIp: "10.83.0.1" }), // this node's underlay address
      host(7, true, { vtepIp6: "fd01:9::7" }), // outside fd01:a::/64
      host(8, true, { agentIp: "fd00::8" }), // other underlay family
      host(9),
    ];
    expect(skippedOf(host(1), peers)).toEqual([
      ["h2", "vtep-outside-subnet"],
      ["h3", "bad-address"],
      ["h4", "bad-address"],
      ["h5", "bad-address"],
      ["h6", "own-agent-ip"],
      ["h7", "vtep-outside-subnet"],
      ["h8", "bad-address"],
    ]);
    expect([...overlayDesired(host(1), peers, OPTS).desired.peers.keys()]).toEqual(["h9"]);
  });

  it("a MAC, VTEP address or subnet that collides with this node's skips the peer; between peers, all of them", () => {
    expect(skippedOf(host(1), [host(2, true, { vtepMac: "70:b3:d5:00:00:01" }), host(3)])).toEqual([["h2", "mac-collision"]]);
    expect(skippedOf(host(1), [host(2, true, { vtepIp: "44.128.0.1" })])).toEqual([["h2", "vtep-collision"]]);
    expect(skippedOf(host(1), [host(2, true, { subnet: "9.0.1.0/24" })])).toEqual([["h2", "subnet-overlap"]]);
    expect(skippedOf(host(1), [host(2, true, { subnet6: "fd01:b:0:0:1::/80" })])).toEqual([["h2", "subnet-overlap"]]);
    expect(skippedOf(host(1), [host(2), host(3, true, { vtepMac: "70:b3:d5:00:00:02" }), host(4)])).toEqual([
      ["h2", "mac-collision"],
      ["h3", "mac-collision"],
    ]);
    expect(skippedOf(host(1), [host(2), host(3, true, { subnet: "9.0.2.0/24" })])).toEqual([
      ["h2", "subnet-overlap"],
      ["h3", "subnet-overlap"],
    ]);
    const msg = overlayDesired(host(1), [host(2, true, { vtepMac: "70:b3:d5:00:00:01" })], OPTS).skipped[0]?.message;
    expect(msg).toBe("VTEP MAC 70:b3:d5:00:00:01 is also this node's");
  });

  it("a subnet nested in another node's (different lengths) is an overlap too", () => {
    const opts = { ...OPTS, subnetPrefix6: undefined };
    const r = overlayDesired(host(1), [host(2, true, { subnet6: "fd01:b:0:0:2::/96" }), host(3, true, { subnet6: "fd01:b:0:0:2::/80" })], opts);
    expect(r.skipped.map((s) => [s.node, s.reason])).toEqual([
      ["h2", "subnet-overlap"],
      ["h3", "subnet-overlap"],
    ]);
  });

  it("two different facts for one node skip it; the same fact twice is one peer", () => {
    expect(skippedOf(host(1), [host(2), host(2, true, { agentIp: "10.83.0.22" })])).toEqual([["h2", "duplicate-node"]]);
    expect(overlayDesired(host(1), [host(2), host(2)], OPTS).desired.peers.size).toBe(1);
  });

  it("refuses this node's own facts when they cannot be programmed", () => {
    for (const own of [host(1, true, { subnet: "9.0.1.0/25" }), host(1, true, { vtepMac: "ff:ff:ff:ff:ff:ff" }), host(1, true, { agentIp: "x" }), host(1, true, { vtepIp: "fd01:a::1" })]) {
      expect(() => overlayDesired(own, [], OPTS)).toThrow(OverlayOwnInvalidError);
    }
    const err = (() => {
      try {
        overlayDesired(host(1), [], { ...OPTS, mtu: 40 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toMatchObject({ code: "DCNET_E_OVERLAY_OWN_INVALID", message: expect.stringContaining("MTU 40") });
  });

  // Peers drawn from small pools, so collisions and overlaps are common.
  const peerArb = fc.record({
    n: fc.integer({ min: 2, max: 9 }),
    vtep: fc.oneof(fc.integer({ min: 1, max: 12 }).map((i) => `44.128.0.${i}`), fc.constant("44.129.0.1"), fc.constant("bogus")),
    mac: fc.integer({ min: 1, max: 12 }).map((i) => `70:b3:d5:00:00:${i.toString(16).padStart(2, "0")}`),
    subnet: fc.oneof(fc.integer({ min: 1, max: 12 }).map((i) => `9.0.${i}.0/24`), fc.constant("9.0.0.0/16")),
    agent: fc.integer({ min: 1, max: 12 }).map((i) => `10.83.0.${i}`),
  });
  const toFact = (p: { n: number; vtep: string; mac: string; subnet: string; agent: string }): NodeOverlay => ({ node: `h${p.n}`, agentIp: p.agent, vtepIp: p.vtep, vtepMac: p.mac, subnet: p.subnet });

  it("property: the result does not depend on the order of the peers", () => {
    fc.assert(
      fc.property(fc.array(peerArb, { maxLength: 10 }), fc.integer(), (raw, seed) => {
        const peers = raw.map(toFact);
        const shuffled = [...peers].sort((a, b) => ((a.vtepIp.length * 31 + seed) % 7) - ((b.vtepIp.length * 31 + seed) % 7) || (a.node < b.node ? 1 : -1));
        const a = overlayDesired(host(1, false), peers, OPTS);
        const b = overlayDesired(host(1, false), shuffled.reverse(), OPTS);
        expect([...b.desired.peers]).toEqual([...a.desired.peers]);
        expect(b.skipped).toEqual(a.skipped);
      }),
    );
  });

  it("property: programmed peers are inside the VTEP subnet and share no MAC, VTEP address or subnet with anyone; every peer is programmed or skipped", () => {
    fc.assert(
      fc.property(fc.array(peerArb, { maxLength: 10 }), (raw) => {
        const peers = raw.map(toFact);
        const { desired, skipped } = overlayDesired(host(1, false), peers, OPTS);
        const all = [host(1, false), ...desired.peers.values()];
        for (const key of ["vtepMac", "vtepIp", "subnet"] as const) expect(new Set(all.map((p) => p[key])).size).toBe(all.length);
        for (const p of desired.peers.values()) expect(p.vtepIp).toMatch(/^44\.128\.0\.\d+$/);
        // 9.0.0.0/16 overlaps every 9.0.N.0/24 — and is not a /24 anyway
        for (const p of desired.peers.values()) expect(p.subnet).not.toBe("9.0.0.0/16");
        const nodes = new Set(peers.map((p) => p.node));
        expect(desired.peers.size + skipped.length).toBe(nodes.size);
      }),
    );
  });

  it("property: never throws on peer facts of any shape", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ node: fc.oneof(fc.string(), fc.anything()), agentIp: fc.anything(), vtepIp: fc.anything(), vtepMac: fc.anything(), subnet: fc.anything(), vtepIp6: fc.anything(), subnet6: fc.anything() }), { maxLength: 5 }), (raw) => {
        const r = overlayDesired(host(1), raw as unknown as NodeOverlay[], OPTS);
        expect(r.desired.peers.size + r.skipped.length).toBeLessThanOrEqual(raw.length);
      }),
    );
  });
});
