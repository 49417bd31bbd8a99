// Snapshot assembly and the flat views used by `dcnet ctl dns records` and the zone-size metric.
import { describe, expect, it } from "@jest/globals";
import { ZoneBuilder } from "./builder.js";
import { customZones } from "./custom.js";
import { thisnodeZone } from "./thisnode.js";
import type { Zone } from "./types.js";
import { assembleZoneSet, recordData, zoneRecords, zoneSize } from "./zoneset.js";
import type { ZoneBuildContext, ZonePart } from "./part.js";

function sample(): Zone {
  const b = ZoneBuilder.dcos("dcos.thisdcos.directory");
  b.addAddress("b.marathon.autoip.dcos.thisdcos.directory", "10.0.0.2");
  b.addAddress("a.marathon.autoip.dcos.thisdcos.directory", "fd00::1");
  b.addAddress("a.marathon.autoip.dcos.thisdcos.directory", "10.0.0.9");
  b.addAddress("a.marathon.autoip.dcos.thisdcos.directory", "10.0.0.10");
  b.add("_http._a._tcp.dcos.thisdcos.directory", { type: "SRV", data: { port: 80, target: "a.marathon.autoip.dcos.thisdcos.directory" } });
  return b.build();
}

describe("zoneRecords / zoneSize", () => {
  it("flattens to presentation rows sorted by name, type, data; names absolute", () => {
    expect(zoneRecords(sample())).toEqual([
      { name: "_http._a._tcp.dcos.thisdcos.directory.", type: "SRV", ttl: 5, data: "0 0 80 a.marathon.autoip.dcos.thisdcos.directory." },
      { name: "a.marathon.autoip.dcos.thisdcos.directory.", type: "A", ttl: 5, data: "10.0.0.10" },
      { name: "a.marathon.autoip.dcos.thisdcos.directory.", type: "A", ttl: 5, data: "10.0.0.9" },
      { name: "a.marathon.autoip.dcos.thisdcos.directory.", type: "AAAA", ttl: 5, data: "fd00::1" },
      { name: "b.marathon.autoip.dcos.thisdcos.directory.", type: "A", ttl: 5, data: "10.0.0.2" },
      { name: "dcos.thisdcos.directory.", type: "NS", ttl: 3600, data: "ns.spartan." },
      { name: "dcos.thisdcos.directory.", type: "SOA", ttl: 5, data: "ns.spartan. support.mesosphere.com. 1 60 180 86400 1" },
    ]);
  });

  it("counts records, SOA and NS included, empty non-terminals not", () => {
    const zone = sample();
    expect(zoneSize(zone)).toBe(7);
    expect(zone.names.get("autoip.dcos.thisdcos.directory")?.size).toBe(0);
    expect(zoneSize(thisnodeZone({ publicIps: [] }))).toBe(2);
  });

  it("prints CNAME data as an absolute name", () => {
    const [zone] = customZones({ "c.thisdcos.directory": [{ type: "cname", name: "r", value: "master.dcos.thisdcos.directory" }] });
    const cname = zone?.names.get("r.c.thisdcos.directory")?.get("CNAME")?.[0];
    expect(cname && recordData(cname)).toBe("master.dcos.thisdcos.directory.");
  });
});

describe("assembleZoneSet", () => {
  it("keys zones by origin; a later zone with the same origin replaces an earlier one", () => {
    const first = thisnodeZone({ privateIp: "10.0.0.1", publicIps: [] });
    const later = thisnodeZone({ privateIp: "10.0.0.2", publicIps: [] });
    const dcos = sample();
    const set = assembleZoneSet(7, [first, dcos, later]);
    expect(set.generation).toBe(7);
    expect([...set.zones.keys()]).toEqual(["thisnode.thisdcos.directory", "dcos.thisdcos.directory"]);
    expect(set.zones.get("thisnode.thisdcos.directory")).toBe(later);
    expect(set.zones.get("dcos.thisdcos.directory")).toBe(dcos);
  });

  it("takes zones from zone parts", () => {
    const ctx: ZoneBuildContext = { defaults: { ttl: 5, negativeTtl: 1, serial: 1 }, nodeId: "n1", nodeIp: undefined };
    const sources: ZonePart<undefined>[] = [{ name: "thisnode", origins: ["thisnode.thisdcos.directory"], watch: [], init: () => undefined, fold: () => false, build: () => [thisnodeZone({ publicIps: [] })] }];
    const set = assembleZoneSet(1, sources.flatMap((s) => s.build(undefined, ctx)));
    expect(set.zones.get(sources[0]?.origins[0] ?? "")?.origin).toBe("thisnode.thisdcos.directory");
  });
});
