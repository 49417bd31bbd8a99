// ZoneBuilder: normalisation, dedupe, empty non-terminals, rejection (never a throw).
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { DCOS_ZONE_DEFAULTS, ZoneBuilder, headFromDefaults, type ZoneProblem } from "./builder.js";
import type { Zone, ZoneRecordType } from "./types.js";

const ORIGIN = "dcos.thisdcos.directory";
const data = (zone: Zone, name: string, type: ZoneRecordType) => zone.names.get(name)?.get(type)?.map((r) => r.data);

describe("ZoneBuilder", () => {
  it("lower-cases, strips the trailing dot and adds the apex SOA and NS (dcos-net §2.3 constants)", () => {
    const b = ZoneBuilder.dcos("DCOS.thisdcos.Directory.");
    b.add("App.Marathon.AUTOIP.dcos.thisdcos.directory.", { type: "A", data: "10.0.0.1" });
    const zone = b.build();
    expect(zone.origin).toBe(ORIGIN);
    expect(data(zone, "app.marathon.autoip.dcos.thisdcos.directory", "A")).toEqual(["10.0.0.1"]);
    expect(zone.soa).toEqual({
      ttl: 5,
      data: { mname: "ns.spartan", rname: "support.mesosphere.com", serial: 1, refresh: 60, retry: 180, expire: 86400, minimum: 1 },
    });
    expect(zone.ns).toEqual({ ttl: 3600, names: ["ns.spartan"] });
    expect(zone.names.get(ORIGIN)?.get("SOA")).toEqual([zone.soa && { type: "SOA", ...zone.soa }]);
    expect(zone.names.get(ORIGIN)?.get("NS")).toEqual([{ type: "NS", ttl: 3600, data: "ns.spartan" }]);
    expect(zone.names.get("app.marathon.autoip.dcos.thisdcos.directory")?.get("A")?.[0]?.ttl).toBe(5);
    expect(zone.mesosDnsCompat).toBeUndefined();
    expect(b.problems).toEqual([]);
  });

  it("adds every empty non-terminal between an owner and the apex as an empty map", () => {
    const b = ZoneBuilder.dcos(ORIGIN);
    b.addAddress(`a.marathon.agentip.${ORIGIN}`, "10.0.0.1");
    b.addAddress(`agentip.${ORIGIN}`, "10.0.0.9"); // a real owner is never turned into an ENT
    const zone = b.build();
    expect(zone.names.get(`marathon.agentip.${ORIGIN}`)?.size).toBe(0);
    expect(data(zone, `agentip.${ORIGIN}`, "A")).toEqual(["10.0.0.9"]);
    expect([...zone.names.keys()].sort()).toEqual([ORIGIN, `a.marathon.agentip.${ORIGIN}`, `agentip.${ORIGIN}`, `marathon.agentip.${ORIGIN}`].sort());
  });

  it("keeps one copy of identical (name, type, data), whatever the spelling", () => {
    const b = ZoneBuilder.dcos(ORIGIN);
    b.add(`x.${ORIGIN}`, { type: "A", data: "10.0.0.1" });
    b.add(`X.${ORIGIN}.`, { type: "A", data: "10.0.0.1", ttl: 99 });
    b.add(`x.${ORIGIN}`, { type: "AAAA", data: "FD01:B:0:0:0:0:0:2" });
    b.add(`x.${ORIGIN}`, { type: "AAAA", data: "fd01:b::2" });
    b.add(`_s._tcp.${ORIGIN}`, { type: "SRV", data: { port: 80, target: `X.${ORIGIN}.`, priority: 1, weight: 1 } });
    b.add(`_s._tcp.${ORIGIN}`, { type: "SRV", data: { port: 80, target: `x.${ORIGIN}`, priority: 1, weight: 1 } });
    b.add(`_s._tcp.${ORIGIN}`, { type: "SRV", data: { port: 81, target: `x.${ORIGIN}`, priority: 1, weight: 1 } });
    const zone = b.build();
    expect(zone.names.get(`x.${ORIGIN}`)?.get("A")).toEqual([{ type: "A", ttl: 5, data: "10.0.0.1" }]);
    expect(data(zone, `x.${ORIGIN}`, "AAAA")).toEqual(["fd01:b::2"]);
    expect(data(zone, `_s._tcp.${ORIGIN}`, "SRV")).toEqual([
      { priority: 1, weight: 1, port: 80, target: `x.${ORIGIN}` },
      { priority: 1, weight: 1, port: 81, target: `x.${ORIGIN}` },
    ]);
  });

  it("rejects names outside the origin with a problem, and builds the rest", () => {
    const seen: ZoneProblem[] = [];
    const b = ZoneBuilder.dcos(ORIGIN, { onProblem: (p) => seen.push(p) });
    expect(b.add("app.marathon.mesos", { type: "A", data: "10.0.0.1" })).toEqual({ item: "app.marathon.mesos A", message: `outside zone ${ORIGIN}` });
    expect(b.add(`xdcos.thisdcos.directory`, { type: "A", data: "10.0.0.1" })?.message).toMatch(/outside zone/);
    b.add(`ok.${ORIGIN}`, { type: "A", data: "10.0.0.1" });
    const zone = b.build();
    expect(zone.names.has("app.marathon.mesos")).toBe(false);
    expect(zone.names.has(`ok.${ORIGIN}`)).toBe(true);
    expect(seen).toEqual(b.problems);
    expect(seen).toHaveLength(2);
  });

  it.each([
    ["empty label", `a..${ORIGIN}`, { type: "A", data: "10.0.0.1" }, /empty label/],
    ["long label", `${"a".repeat(64)}.${ORIGIN}`, { type: "A", data: "10.0.0.1" }, /label longer than 63/],
    ["long name", `${"a.".repeat(120)}${ORIGIN}`, { type: "A", data: "10.0.0.1" }, /longer than 253/],
    ["space", `a b.${ORIGIN}`, { type: "A", data: "10.0.0.1" }, /printable ASCII/],
    ["A with IPv6", `a.${ORIGIN}`, { type: "A", data: "::1" }, /not an IPv4/],
    ["A with leading zero", `a.${ORIGIN}`, { type: "A", data: "10.0.0.01" }, /not an IPv4/],
    ["A with a name (Mesos-DNS bug #509)", `a.${ORIGIN}`, { type: "A", data: "host.example" }, /not an IPv4/],
    ["AAAA with IPv4", `a.${ORIGIN}`, { type: "AAAA", data: "10.0.0.1" }, /not an IPv6/],
    ["AAAA with zone id", `a.${ORIGIN}`, { type: "AAAA", data: "fe80::1%eth0" }, /not an IPv6/],
    ["SRV port", `a.${ORIGIN}`, { type: "SRV", data: { port: 70000, target: "t" } }, /0\.\.65535/],
    ["SRV target", `a.${ORIGIN}`, { type: "SRV", data: { port: 1, target: "" } }, /empty name/],
    ["CNAME target", `a.${ORIGIN}`, { type: "CNAME", data: "a..b" }, /empty label/],
    ["ttl", `a.${ORIGIN}`, { type: "A", data: "10.0.0.1", ttl: -1 }, /ttl/],
  ] as const)("rejects %s", (_what, name, input, message) => {
    const b = ZoneBuilder.dcos(ORIGIN);
    expect(b.add(name, input)?.message).toMatch(message);
    expect(b.build().names.size).toBe(1); // the apex only
  });

  it("keeps a CNAME alone at its name and off the apex (RFC 1034 §3.6.2)", () => {
    const b = ZoneBuilder.dcos(ORIGIN);
    expect(b.add(`r.${ORIGIN}`, { type: "CNAME", data: "master.dcos.thisdcos.directory." })).toBeUndefined();
    expect(b.add(`r.${ORIGIN}`, { type: "CNAME", data: "other.example" })?.message).toMatch(/second CNAME/);
    expect(b.add(`r.${ORIGIN}`, { type: "A", data: "10.0.0.1" })?.message).toMatch(/beside a CNAME/);
    b.addAddress(`h.${ORIGIN}`, "10.0.0.2");
    expect(b.add(`h.${ORIGIN}`, { type: "CNAME", data: "x.example" })?.message).toMatch(/beside other records/);
    expect(b.add(ORIGIN, { type: "CNAME", data: "x.example" })?.message).toMatch(/apex/);
    expect(b.add(`r.${ORIGIN}`, { type: "CNAME", data: "MASTER.dcos.thisdcos.directory" })).toBeUndefined(); // a duplicate
    expect(data(b.build(), `r.${ORIGIN}`, "CNAME")).toEqual(["master.dcos.thisdcos.directory"]);
  });

  it("hands out zones that later adds do not change", () => {
    const b = ZoneBuilder.dcos(ORIGIN);
    b.addAddress(`x.${ORIGIN}`, "10.0.0.1");
    const first = b.build();
    b.addAddress(`x.${ORIGIN}`, "10.0.0.2");
    expect(data(first, `x.${ORIGIN}`, "A")).toEqual(["10.0.0.1"]);
    expect(data(b.build(), `x.${ORIGIN}`, "A")).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  it("allows addresses at the apex next to SOA and NS", () => {
    const b = ZoneBuilder.dcos(ORIGIN);
    b.addAddress(ORIGIN, "10.0.0.1");
    const apex = b.build().names.get(ORIGIN);
    expect([...(apex?.keys() ?? [])].sort()).toEqual(["A", "NS", "SOA"]);
  });

  it("reports an invalid origin instead of throwing", () => {
    const b = ZoneBuilder.dcos("bad..origin");
    expect(b.problems[0]?.message).toMatch(/empty label/);
    expect(b.add("x.bad..origin", { type: "A", data: "10.0.0.1" })).toBeDefined();
  });

  it("takes overrides, ignoring keys explicitly set to undefined", () => {
    const head = headFromDefaults({ ttl: 30, negativeTtl: 7, serial: 42, soaMname: "NS1.Example.", ns: undefined } as never);
    expect(head.defaultTtl).toBe(30);
    expect(head.soa.data).toMatchObject({ serial: 42, minimum: 7, mname: "NS1.Example." });
    expect(headFromDefaults({ ttl: undefined }).defaultTtl).toBe(DCOS_ZONE_DEFAULTS.ttl);
    const zone = new ZoneBuilder(ORIGIN, { ...head, mesosDnsCompat: true }).build();
    expect(zone.soa.data.mname).toBe("ns1.example");
    expect(zone.mesosDnsCompat).toBe(true);
  });

  it("never throws, whatever it is given", () => {
    const anyRecord = fc.record({
      type: fc.constantFrom("A", "AAAA", "CNAME", "SRV", "TXT"),
      data: fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.record({ port: fc.integer(), target: fc.string() })),
      ttl: fc.option(fc.integer(), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.string(), fc.array(fc.tuple(fc.string(), anyRecord), { maxLength: 20 }), (origin, recs) => {
        const b = ZoneBuilder.dcos(origin);
        for (const [name, rec] of recs) b.add(`${name}.${origin}`, rec as never);
        const zone = b.build();
        for (const name of zone.names.keys()) expect(name === zone.origin || name.endsWith(`.${zone.origin}`)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
