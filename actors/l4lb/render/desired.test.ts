import { describe, it, expect } from "@jest/globals";
import fc from "fast-check";
import { vipDnsName } from "../../catalogue/model.js";
import type { Backend } from "../model.js";
import { desiredState, desiredStateFrom, type DesiredInput, type DesiredResult } from "./desired.js";
import { backend as be, input } from "./testkit.js";

// Address plan: this node is h1 (10.77.0.1, fd00:77::1); containers 9.0.N.x on host N; IP VIPs
// 11.0.0.x / fd01:c::x; the allocator's named addresses 11.0.1.x / fd01:c::1:x.

const kv = (r: ReturnType<typeof desiredState>, key: string) => r.state.vips.get(key);

describe("desiredState: backends and their health (dcos-net §3.3)", () => {
  it("an IP VIP gets its serving backends sorted, whatever the table's order", () => {
    const r = desiredState(input({ "tcp:11.0.0.10:80": [be("n3", "10.77.0.3", "9.0.3.2", 80), be("n2", "10.77.0.2", "9.0.2.2", 80), be("n2", "10.77.0.2", "9.0.2.2", 79)] }));
    expect(kv(r, "ip 11.0.0.10 tcp 80")).toEqual({
      family: "ip", addr: "11.0.0.10", protocol: "tcp", port: 80,
      backends: [{ ip: "9.0.2.2", port: 79 }, { ip: "9.0.2.2", port: 80 }, { ip: "9.0.3.2", port: 80 }],
      draining: [],
    });
    expect(r.counts).toEqual({ vips: 1, backends: 3, unreachableBackends: 0, unreachableVips: 0 });
    expect(r.skipped).toEqual([]);
  });

  it("weight 0 drains: the backend leaves the serving set but stays known, shown as draining", () => {
    const r = desiredState(input({ "tcp:11.0.0.10:80": [be("n2", "10.77.0.2", "9.0.2.2", 80, 0), be("n3", "10.77.0.3", "9.0.3.2", 80)] }));
    expect(kv(r, "ip 11.0.0.10 tcp 80")).toMatchObject({ backends: [{ ip: "9.0.3.2", port: 80 }], draining: [{ ip: "9.0.2.2", port: 80 }] });
    expect(r.views[0]?.backends.map((b) => b.state)).toEqual(["draining", "serving"]);
  });

  it("a VIP whose backends all drain stays in the kernel with no serving backend (new connections are refused)", () => {
    const r = desiredState(input({ "udp:11.0.0.10:53": [be("n2", "10.77.0.2", "9.0.2.2", 53, 0)] }));
    expect(kv(r, "ip 11.0.0.10 udp 53")).toMatchObject({ backends: [], draining: [{ ip: "9.0.2.2", port: 53 }] });
  });

  it("backends on dead nodes are left out and shown unreachable", () => {
    const r = desiredState(input({ "tcp:11.0.0.10:80": [be("n2", "10.77.0.2", "9.0.2.2", 80), be("n3", "10.77.0.3", "9.0.3.2", 80)] }, { deadNodes: new Set(["n2"]) }));
    expect(kv(r, "ip 11.0.0.10 tcp 80")?.backends).toEqual([{ ip: "9.0.3.2", port: 80 }]);
    expect(r.views[0]?.backends.map((b) => [b.owner, b.state])).toEqual([["n2", "unreachable"], ["n3", "serving"]]);
    expect(r.counts).toMatchObject({ unreachableBackends: 1, unreachableVips: 0, backends: 1 });
  });

  it("when every backend of a VIP is on a dead node, all are kept (dcos-net healthy_backends/2)", () => {
    const r = desiredState(input({ "tcp:11.0.0.10:80": [be("n2", "10.77.0.2", "9.0.2.2", 80), be("n3", "10.77.0.3", "9.0.3.2", 80, 0)] }, { deadNodes: new Set(["n2", "n3"]) }));
    expect(kv(r, "ip 11.0.0.10 tcp 80")).toMatchObject({ backends: [{ ip: "9.0.2.2", port: 80 }], draining: [{ ip: "9.0.3.2", port: 80 }] });
    expect(r.counts).toMatchObject({ unreachableBackends: 2, unreachableVips: 1 });
  });

  it("an IP VIP takes only backends of its own family", () => {
    const r = desiredState(input({ "tcp:11.0.0.10:80": [be("n2", "10.77.0.2", "9.0.2.2", 80), be("n2", "10.77.0.2", "fd00:9:2::2", 80)] }));
    expect(kv(r, "ip 11.0.0.10 tcp 80")?.backends).toEqual([{ ip: "9.0.2.2", port: 80 }]);
  });

  it("equal inputs in any order give equal states", () => {
    const backends = [be("n2", "10.77.0.2", "9.0.2.2", 80), be("n3", "10.77.0.3", "9.0.3.2", 80, 0), be("n1", "10.77.0.1", "9.0.1.2", 80), be("n3", "10.77.0.3", "10.77.0.3", 31000)];
    const ref = desiredState(input({ "tcp:11.0.0.10:80": backends })).state;
    fc.assert(
      fc.property(fc.shuffledSubarray(backends, { minLength: backends.length, maxLength: backends.length }), (shuffled) => {
        expect(desiredState(input({ "tcp:11.0.0.10:80": shuffled })).state).toEqual(ref);
      }),
    );
  });
});

describe("desiredState: backends on this node (0-hop paths, DCOS_OSS-2070)", () => {
  it("a local bridge-mode backend is programmed at its container address, a remote one at agent:hostPort", () => {
    const direct = { ip: "9.0.1.5", port: 80 };
    const r = desiredState(input({
      "tcp:11.0.0.10:80": [be("n1", "10.77.0.1", "10.77.0.1", 31000, 1, direct), be("n2", "10.77.0.2", "10.77.0.2", 31001, 1, { ip: "9.0.2.5", port: 80 })],
    }));
    expect(kv(r, "ip 11.0.0.10 tcp 80")?.backends).toEqual([{ ip: "10.77.0.2", port: 31001 }, { ip: "9.0.1.5", port: 80 }]);
    expect([...r.state.hairpin.ip]).toEqual(["9.0.1.5"]);
  });

  it("local backends (containers on this node, host-network tasks here) are hairpin addresses; remote ones are not", () => {
    const r = desiredState(input({
      "tcp:11.0.0.10:80": [be("n1", "10.77.0.1", "9.0.1.2", 80), be("n1", "10.77.0.1", "10.77.0.1", 8080), be("n2", "10.77.0.2", "9.0.2.2", 80)],
      "tcp:[fd01:c::10]:80": [be("n1", "10.77.0.1", "fd00:77::1", 80)],
    }));
    expect([...r.state.hairpin.ip].sort()).toEqual(["10.77.0.1", "9.0.1.2"]);
    expect([...r.state.hairpin.ip6]).toEqual(["fd00:77::1"]);
  });

  it("a draining local backend is not a hairpin address (no new connection reaches it)", () => {
    const r = desiredState(input({ "tcp:11.0.0.10:80": [be("n1", "10.77.0.1", "9.0.1.2", 80, 0)] }));
    expect(r.state.hairpin.ip.size).toBe(0);
  });
});

describe("desiredState: named VIPs (dcos-net §3.2)", () => {
  const table = {
    "tcp:/mygroup/app:80@marathon": [be("n2", "10.77.0.2", "9.0.2.2", 8080), be("n3", "10.77.0.3", "fd00:9:3::2", 8080)],
  };

  it("wants one address per family present among its backends, and waits (pending) until given", () => {
    const r = desiredState(input(table));
    expect(r.wanted).toEqual(["v4:mygroupapp.marathon", "v6:mygroupapp.marathon"]);
    expect(r.state.vips.size).toBe(0);
    expect(r.views[0]).toMatchObject({ kind: "named", dnsName: "mygroupapp.marathon", pending: true, addresses: [] });
  });

  it("names them exactly as the catalogue does (vipDnsName)", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[/a-zA-Z0-9._-]{1,40}$/).filter((l) => /[A-Za-z]/.test(l)), fc.constantFrom("marathon", "Hello_World.fw"), (label, fw) => {
        const r = desiredState(input({ [`tcp:${label}:80@${fw}`]: [be("n2", "10.77.0.2", "9.0.2.2", 80)] }));
        expect(r.views[0]?.dnsName).toBe(vipDnsName(label, fw));
      }),
    );
  });

  it("gets a kernel VIP per allocated family, each with that family's backends", () => {
    const r = desiredState(input(table, { addresses: new Map([["v4:mygroupapp.marathon", "11.0.1.1"], ["v6:mygroupapp.marathon", "FD01:C:0::1:1"]]) }));
    expect(kv(r, "ip 11.0.1.1 tcp 80")?.backends).toEqual([{ ip: "9.0.2.2", port: 8080 }]);
    expect(kv(r, "ip6 fd01:c::1:1 tcp 80")?.backends).toEqual([{ ip: "fd00:9:3::2", port: 8080 }]);
    expect(r.views[0]).toMatchObject({ pending: false, addresses: [{ family: "ip", addr: "11.0.1.1" }, { family: "ip6", addr: "fd01:c::1:1" }] });
  });

  it("two labels with one DNS name (`/a:80` and `a:80` of one framework) share the address: backends merged", () => {
    const r = desiredState(input(
      { "tcp:/a:80@marathon": [be("n2", "10.77.0.2", "9.0.2.2", 80)], "tcp:a:80@marathon": [be("n3", "10.77.0.3", "9.0.3.2", 80), be("n2", "10.77.0.2", "9.0.2.2", 80)] },
      { addresses: new Map([["v4:a.marathon", "11.0.1.2"]]) },
    ));
    expect(r.state.vips.size).toBe(1);
    expect(kv(r, "ip 11.0.1.2 tcp 80")?.backends).toEqual([{ ip: "9.0.2.2", port: 80 }, { ip: "9.0.3.2", port: 80 }]);
    expect(r.wanted).toEqual(["v4:a.marathon"]);
  });

  it("an IP VIP on an allocated named address with the same protocol and port is skipped (conflict); another port is fine", () => {
    const r = desiredState(input(
      { "tcp:/a:80@marathon": [be("n2", "10.77.0.2", "9.0.2.2", 80)], "tcp:11.0.1.2:80": [be("n3", "10.77.0.3", "9.0.3.2", 80)], "tcp:11.0.1.2:81": [be("n3", "10.77.0.3", "9.0.3.2", 81)] },
      { addresses: new Map([["v4:a.marathon", "11.0.1.2"]]) },
    ));
    expect(kv(r, "ip 11.0.1.2 tcp 80")?.backends).toEqual([{ ip: "9.0.2.2", port: 80 }]);
    expect(kv(r, "ip 11.0.1.2 tcp 81")).toBeDefined();
    expect(r.skipped).toEqual([{ vip: "tcp:11.0.1.2:80", reason: "conflict", message: expect.stringContaining("tcp:/a:80@marathon") }]);
    expect(r.views.find((v) => v.vip === "tcp:11.0.1.2:80")?.skipped?.reason).toBe("conflict");
  });
});

describe("desiredState: bad input is skipped with a reason, other VIPs keep working", () => {
  const good = { "tcp:11.0.0.10:80": [be("n2", "10.77.0.2", "9.0.2.2", 80)] };
  const reasons = (i: DesiredInput) => {
    const r = desiredState(i);
    expect(r.state.vips.has("ip 11.0.0.10 tcp 80")).toBe(true);
    return r.skipped.map((s) => [s.vip, s.reason]);
  };

  it("VIPs inside the overlay or VTEP ranges (forbidden-range)", () => {
    const b = [be("n2", "10.77.0.2", "9.0.2.2", 80)];
    expect(reasons(input({ ...good, "tcp:9.0.0.7:80": b, "tcp:44.128.3.1:80": b, "tcp:44.128.16.1:80": b, "tcp:[fd00:9::1]:80": b }, { forbidden: ["9.0.0.0/8", "44.128.0.0/20", "fd00:9::/32"] })))
      .toEqual([["tcp:44.128.3.1:80", "forbidden-range"], ["tcp:9.0.0.7:80", "forbidden-range"], ["tcp:[fd00:9::1]:80", "forbidden-range"]]);
  });

  it("more serving backends than the layout holds (too-many-backends); draining ones do not count", () => {
    const many = [1, 2, 3, 4].map((i) => be("n2", "10.77.0.2", `9.0.2.${i}`, 80));
    expect(reasons(input({ ...good, "tcp:11.0.0.11:80": many, "tcp:11.0.0.12:80": [...many.slice(0, 3), be("n2", "10.77.0.2", "9.0.2.9", 80, 0)] }, { maxBackends: 3 })))
      .toEqual([["tcp:11.0.0.11:80", "too-many-backends"]]);
  });

  it("unparsable keys and allocator answers of the wrong family (bad-address)", () => {
    const b = [be("n2", "10.77.0.2", "9.0.2.2", 80)];
    expect(reasons(input({ ...good, "sctp:11.0.0.1:80": b, "tcp:11.0.0.300:80": b, "tcp:/x:0@marathon": b, "tcp:/y:80@marathon": b }, { addresses: new Map([["v4:y.marathon", "fd01:c::9"]]) })))
      .toEqual([["sctp:11.0.0.1:80", "bad-address"], ["tcp:/x:0@marathon", "bad-address"], ["tcp:/y:80@marathon", "bad-address"], ["tcp:11.0.0.300:80", "bad-address"]]);
  });

  it("IPv6 VIPs when l4lb.ipv6 is off (family-disabled); a named VIP keeps its IPv4 backends", () => {
    const r = desiredState(input(
      { ...good, "tcp:[fd01:c::10]:80": [be("n2", "10.77.0.2", "fd00:77::2", 80)], "tcp:/v6only:80@marathon": [be("n2", "10.77.0.2", "fd00:77::2", 80)], "tcp:/mixed:80@marathon": [be("n2", "10.77.0.2", "fd00:77::2", 80), be("n2", "10.77.0.2", "9.0.2.2", 80)] },
      { ipv6: false, addresses: new Map([["v4:mixed.marathon", "11.0.1.3"]]) },
    ));
    expect(r.skipped.map((s) => [s.vip, s.reason])).toEqual([["tcp:/v6only:80@marathon", "family-disabled"], ["tcp:[fd01:c::10]:80", "family-disabled"]]);
    expect(r.wanted).toEqual(["v4:mixed.marathon"]);
    expect(kv(r, "ip 11.0.1.3 tcp 80")?.backends).toEqual([{ ip: "9.0.2.2", port: 80 }]);
  });

  it("never throws on arbitrary keys and backends", () => {
    const backendArb: fc.Arbitrary<Backend> = fc.record({
      owner: fc.constantFrom("n1", "n2"), taskId: fc.string(), agentIp: fc.constantFrom("10.77.0.1", "10.77.0.2", "x"),
      ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), port: fc.integer({ min: 0, max: 70000 }), weight: fc.constantFrom(0 as const, 1 as const),
    });
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("tcp:11.0.0.1:80", "udp:[::1]:53", "tcp:/a:1@b")), fc.array(backendArb, { maxLength: 5 })), fc.integer({ min: 1, max: 4 }), (t, max) => {
        const r = desiredState(input(t, { maxBackends: max, addresses: new Map([["v4:a.b", "11.0.1.1"]]) }));
        for (const v of r.state.vips.values()) expect(v.backends.length).toBeLessThanOrEqual(max);
        expect(r.views.length).toBe(Object.keys(t).length);
      }),
    );
  });
});

// desiredStateFrom must be desiredState, only cheaper: every step of a random edit sequence is
// compared with a fresh full computation of the same input, over a small universe of keys that
// merge (named VIPs sharing a DNS name or an address, IP VIPs on one address written two ways),
// conflict (IP VIP on a named address), sit in forbidden ranges, drain, die and mix families.
describe("desiredStateFrom: incremental equals full", () => {
  const KEYS = [
    "tcp:11.0.0.1:80", "udp:11.0.0.1:80", "tcp:11.0.1.1:80", "tcp:11.0.1.1:81", "tcp:[fd01:c::1:1]:80", "tcp:[FD01:C:0::1:1]:80",
    "tcp:[fd01:c::10]:80", "tcp:9.0.0.7:80", "tcp:11.0.0.300:80", "sctp:11.0.0.2:80",
    "tcp:/a:80@marathon", "tcp:a:80@marathon", "udp:/a:80@marathon", "tcp:/b:80@marathon", "tcp:/c:80@marathon", "tcp:/v6:80@marathon",
  ];
  const HOSTS = ["n1", "n2", "n3", "n4"];
  const backendArb: fc.Arbitrary<Backend> = fc
    .record({
      host: fc.integer({ min: 1, max: 4 }),
      kind: fc.constantFrom("container", "host", "bridge", "v6", "bad"),
      x: fc.integer({ min: 1, max: 3 }),
      port: fc.constantFrom(80, 81),
      weight: fc.constantFrom<0 | 1>(0, 1, 1),
    })
    .map(({ host, kind, x, port, weight }) => {
      const agent = `10.77.0.${host}`;
      if (kind === "host") return be(`n${host}`, agent, agent, 31000 + x, weight);
      if (kind === "bridge") return be(`n${host}`, agent, agent, 31000 + x, weight, { ip: `9.0.${host}.${x}`, port });
      if (kind === "v6") return be(`n${host}`, agent, `fd00:9:${host}::${x}`, port, weight);
      if (kind === "bad") return be(`n${host}`, agent, "not-an-ip", port, weight);
      return be(`n${host}`, agent, `9.0.${host}.${x}`, port, weight);
    });
  const ADDRESSES: ReadonlyArray<ReadonlyMap<string, string>> = [
    new Map(),
    new Map([["v4:a.marathon", "11.0.1.1"], ["v6:a.marathon", "fd01:c::1:1"], ["v4:b.marathon", "11.0.1.2"], ["v6:v6.marathon", "fd01:c::1:6"]]),
    // Two names on one address (merged), a forbidden one, one of the wrong family.
    new Map([["v4:a.marathon", "11.0.1.1"], ["v4:b.marathon", "11.0.1.1"], ["v4:c.marathon", "9.0.0.9"], ["v6:a.marathon", "11.0.1.7"]]),
    new Map([["v4:a.marathon", "11.0.1.3"], ["v4:c.marathon", "11.0.1.1"], ["v6:v6.marathon", "fd01:c::10"]]),
  ];
  const DEAD: ReadonlyArray<readonly string[]> = [[], ["n2"], ["n2", "n3", "n4"], HOSTS];
  type Op =
    | { readonly op: "set"; readonly key: string; readonly backends: Backend[] }
    | { readonly op: "delete"; readonly key: string }
    | { readonly op: "touch"; readonly key: string }
    | { readonly op: "addresses"; readonly i: number }
    | { readonly op: "dead"; readonly i: number }
    | { readonly op: "same-dead" }
    | { readonly op: "unknown" };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant("set" as const), key: fc.constantFrom(...KEYS), backends: fc.array(backendArb, { maxLength: 5 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), key: fc.constantFrom(...KEYS) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("touch" as const), key: fc.constantFrom(...KEYS) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("addresses" as const), i: fc.integer({ min: 0, max: ADDRESSES.length - 1 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("dead" as const), i: fc.integer({ min: 0, max: DEAD.length - 1 }) }) },
    { weight: 1, arbitrary: fc.constant({ op: "same-dead" as const }) },
    { weight: 1, arbitrary: fc.constant({ op: "unknown" as const }) },
  );

  /** Everything a result says, as plain data (Map order aside: the kernel has no order). */
  const plain = (r: DesiredResult) => ({
    vips: [...r.state.vips].sort(([a], [b]) => (a < b ? -1 : 1)),
    hairpin: { ip: [...r.state.hairpin.ip].sort(), ip6: [...r.state.hairpin.ip6].sort() },
    views: JSON.parse(JSON.stringify(r.views)) as unknown,
    skipped: r.skipped,
    wanted: r.wanted,
    counts: r.counts,
  });

  it("every step of random edit sequences (bursts of 1-3 edits) equals desiredState of the same input, and leaves the previous result as it was", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 25 }), (ipv6, steps) => {
        const rows = new Map<string, Backend[]>();
        let base = input({}, { ipv6, maxBackends: 3, forbidden: ["9.0.0.0/8", "fd00:9::/32"] });
        let prev: DesiredResult | undefined;
        for (const burst of steps) {
          let changed: Set<string> | undefined = new Set<string>();
          for (const o of burst) {
            if (o.op === "set") rows.set(o.key, o.backends);
            else if (o.op === "delete") rows.delete(o.key);
            else if (o.op === "touch") {
              const b = rows.get(o.key);
              if (b) rows.set(o.key, b.map((x) => ({ ...x }))); // same content, a new array: not in `changed`
              continue;
            } else if (o.op === "addresses") base = { ...base, addresses: ADDRESSES[o.i] as ReadonlyMap<string, string> };
            else if (o.op === "dead") base = { ...base, deadNodes: new Set(DEAD[o.i]) };
            else if (o.op === "same-dead") base = { ...base, deadNodes: new Set(base.deadNodes), localIps: new Set(base.localIps) };
            else changed = undefined;
            if ((o.op === "set" || o.op === "delete") && changed) changed.add(o.key);
          }
          // The catalogue's order: keys sorted.
          const table = new Map([...rows.keys()].sort().map((k) => [k, rows.get(k) as Backend[]]));
          const next: DesiredInput = { ...base, table };
          const before = prev && plain(prev);
          const got = desiredStateFrom(prev, next, changed);
          expect(plain(got)).toEqual(plain(desiredState(next)));
          if (prev) expect(plain(prev)).toEqual(before);
          prev = got;
        }
      }),
      { numRuns: 300 },
    );
  });

  it("keeps unchanged kernel VIPs, hairpin sets and wanted as the same objects, in a new vips Map", () => {
    const a = [be("n1", "10.77.0.1", "9.0.1.2", 80)];
    const table = new Map([["tcp:/a:80@marathon", a], ["tcp:11.0.0.1:80", [be("n2", "10.77.0.2", "9.0.2.2", 80)]], ["tcp:11.0.0.2:80", [be("n2", "10.77.0.2", "9.0.2.3", 80)]]]);
    const i = input({}, { table, addresses: new Map([["v4:a.marathon", "11.0.1.1"]]) });
    const r1 = desiredState(i);
    const t2 = new Map(table).set("tcp:11.0.0.2:80", [be("n3", "10.77.0.3", "9.0.3.3", 80)]);
    const r2 = desiredStateFrom(r1, { ...i, table: t2 }, new Set(["tcp:11.0.0.2:80"]));
    expect(r2.state.vips).not.toBe(r1.state.vips);
    expect(r2.state.vips.get("ip 11.0.0.1 tcp 80")).toBe(r1.state.vips.get("ip 11.0.0.1 tcp 80"));
    expect(r2.state.vips.get("ip 11.0.1.1 tcp 80")).toBe(r1.state.vips.get("ip 11.0.1.1 tcp 80"));
    expect(r2.state.vips.get("ip 11.0.0.2 tcp 80")?.backends).toEqual([{ ip: "9.0.3.3", port: 80 }]);
    expect(r2.state.hairpin.ip).toBe(r1.state.hairpin.ip);
    expect(r2.wanted).toBe(r1.wanted);
    expect(r2.views[0]).toBe(r1.views[0]);
    // The named VIP's local backend moves to another port: its name and hairpin address stay, and so do those objects.
    const t3 = new Map(t2).set("tcp:/a:80@marathon", [be("n1", "10.77.0.1", "9.0.1.2", 81)]);
    const r3 = desiredStateFrom(r2, { ...i, table: t3 }, new Set(["tcp:/a:80@marathon"]));
    expect(r3.state.vips.get("ip 11.0.1.1 tcp 80")?.backends).toEqual([{ ip: "9.0.1.2", port: 81 }]);
    expect(r3.state.hairpin.ip).toBe(r1.state.hairpin.ip);
    expect(r3.wanted).toBe(r1.wanted);
    // A result already continued is not continued twice: the older one gets a full (still equal) computation.
    const again = desiredStateFrom(r1, { ...i, table: t2 }, new Set(["tcp:11.0.0.2:80"]));
    expect(again.state).toEqual(r2.state);
  });
});

describe("desiredState: speed", () => {
  it("10,000 VIPs × 3 backends (half named)", () => {
    const table = new Map<string, Backend[]>();
    const addresses = new Map<string, string>();
    for (let i = 0; i < 10_000; i++) {
      const b = [0, 1, 2].map((k) => be(`n${k}`, `10.77.${k}.1`, `9.${k}.${(i >> 8) & 255}.${i & 255}`, 8080));
      if (i % 2 === 0) table.set(`tcp:11.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}:80`, b);
      else {
        table.set(`tcp:/group/app-${i}:80@marathon`, b);
        addresses.set(`v4:groupapp-${i}.marathon`, `11.200.${(i >> 8) & 255}.${i & 255}`);
      }
    }
    const i = input({}, { table, addresses });
    desiredState(i); // warm-up
    const times: number[] = [];
    let vips = 0;
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      vips = desiredState(i).state.vips.size;
      times.push(performance.now() - t0);
    }
    expect(vips).toBe(10_000);
    console.log(`desiredState 10,000 VIPs × 3 backends: ${times.map((t) => t.toFixed(1)).join(", ")} ms (5 runs)`);

    // One VIP change at a time (a backend drains, the next one serves again), as the applier sees it.
    let prev = desiredState(i);
    let current = table;
    const keys = [...table.keys()];
    const one: number[] = [];
    for (let k = 0; k < 200; k++) {
      const key = keys[(k * 7919) % keys.length] as string;
      const next = new Map(current);
      next.set(key, (current.get(key) as Backend[]).map((b, j) => (j === 0 ? { ...b, weight: b.weight === 1 ? (0 as const) : (1 as const) } : b)));
      current = next;
      const t0 = performance.now();
      prev = desiredStateFrom(prev, { ...i, table: next }, new Set([key]));
      one.push(performance.now() - t0);
    }
    expect(plainCount(prev)).toEqual(plainCount(desiredState({ ...i, table: current })));
    one.sort((a, b) => a - b);
    console.log(`desiredStateFrom one VIP change at 10,000 VIPs × 3 backends: p50 ${(one[100] ?? 0).toFixed(2)} ms, p99 ${(one[198] ?? 0).toFixed(2)} ms (200 changes)`);
  });
});

function plainCount(r: DesiredResult): object {
  return { counts: r.counts, draining: [...r.state.vips.values()].reduce((n, v) => n + v.draining.length, 0) };
}
