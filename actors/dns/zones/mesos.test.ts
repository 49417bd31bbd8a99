// The `.mesos` zone against the upstream Mesos-DNS oracle, and the `mesos.thisdcos.directory`
// mirror of dcos-net's axfr.json with the expectations of dcos/dcos-net
// apps/dcos_dns/test/dcos_dns_mesos_dns_tests.erl (basic_test_, every case).
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { generateRecords, type DnsRecord, type MesosDnsConfig } from "../mesos-dns/generate.js";
import { oracleRecords as oracle } from "../../../testkit/dns/mesos-dns-oracle.js";
import type { ZoneProblem } from "./builder.js";
import { MESOS_MIRROR_ORIGIN, mesosZones, mirrorName, parseSrvValue, recordsFromAxfr, type MesosZoneOptions } from "./mesos.js";
import type { Zone, ZoneRecordType } from "./types.js";
import { zoneRecords, zoneSize } from "./zoneset.js";

const SHARED = new URL("../../../../shared/fixtures/", import.meta.url);
const fake: unknown = JSON.parse(readFileSync(new URL("mesos-dns/factories/fake.json", SHARED), "utf8"));
const axfr: unknown = JSON.parse(readFileSync(new URL("dcos-net/axfr.json", SHARED), "utf8"));


// The generator's config for that oracle file (generate.test.ts `base`).
const config: MesosDnsConfig = {
  domain: "mesos", ns: "mesos-dns.mesos.", listener: "127.0.0.1", masters: ["144.76.157.37:5050"],
  ipSources: ["netinfo", "mesos", "host"], enforceRFC952: false, resolveHost: (h) => (h === "localhost" ? ["127.0.0.1"] : []),
};
const opts: MesosZoneOptions = { domain: "mesos", ttl: 60, mirror: true, compat: true, serial: 1522195185 };

/** The zone's non-apex records back in the generator's `TYPE NAME VALUE` form. */
function asOracle(zone: Zone): string[] {
  return zoneRecords(zone)
    .filter((r) => !(r.name === `${zone.origin}.` && (r.type === "SOA" || r.type === "NS")))
    .map((r) => `${r.type}\t${r.name}\t${r.type === "SRV" ? srvOracle(r.data) : r.data}`)
    .sort();
}
const srvOracle = (data: string) => {
  const [priority, weight, port, target] = data.split(" ");
  expect([priority, weight]).toEqual(["0", "1"]);
  return `${target}:${port}`;
};

const resolve = (zone: Zone | undefined, name: string, type: ZoneRecordType = "A") => zone?.names.get(name)?.get(type) ?? [];

describe("mesosZones: the .mesos zone", () => {
  const { records } = generateRecords(fake, config);
  const [mesos] = mesosZones(records, { ...opts, mirror: false });

  it("holds exactly the upstream oracle's records (fake.json.default-rfc1123.tsv)", () => {
    const expected = oracle("fake.json.default-rfc1123.tsv");
    expect(expected.length).toBeGreaterThan(50);
    expect(asOracle(mesos as Zone)).toEqual(expected);
    expect(zoneSize(mesos as Zone)).toBe(expected.length + 2);
  });

  it("has the Mesos-DNS SOA (ns1.mesos root.ns1.mesos serial 60 600 86400 TTL), NS, TTL, compat", () => {
    const z = mesos as Zone;
    expect(z.origin).toBe("mesos");
    expect(z.soa).toEqual({ ttl: 60, data: { mname: "ns1.mesos", rname: "root.ns1.mesos", serial: 1522195185, refresh: 60, retry: 600, expire: 86400, minimum: 60 } });
    expect(z.ns).toEqual({ ttl: 60, names: ["ns1.mesos"] });
    expect(z.mesosDnsCompat).toBe(true);
    for (const row of zoneRecords(z)) expect(row.ttl).toBe(60);
    expect(resolve(z, "_big-dog._tcp.marathon.mesos", "SRV").map((r) => r.data)).toEqual([
      { priority: 0, weight: 1, port: 443, target: "big-dog-4dfjd-0.marathon.mesos" },
      { priority: 0, weight: 1, port: 80, target: "big-dog-4dfjd-0.marathon.mesos" },
    ]);
  });

  it("takes SOA names, rname with @, refresh/retry/expire and SRV weight from options", () => {
    const [z] = mesosZones(records, { ...opts, mirror: false, compat: false, ttl: 30, soaMname: "ns9.mesos.", soaRname: "hostmaster@mesos", soaRefresh: 1, soaRetry: 2, soaExpire: 3, srvWeight: 7 });
    expect(z?.soa).toEqual({ ttl: 30, data: { mname: "ns9.mesos", rname: "hostmaster.mesos", serial: 1522195185, refresh: 1, retry: 2, expire: 3, minimum: 30 } });
    expect(z?.mesosDnsCompat).toBe(false);
    expect(resolve(z, "_big-dog._tcp.marathon.mesos", "SRV")[0]?.data).toMatchObject({ priority: 0, weight: 7 });
  });

  it("is the same zone whether records come from the generator or from its AXFR form", () => {
    const asAxfr = { Records: { As: {}, AAAAs: {}, SRVs: {} } as Record<string, Record<string, string[]>> };
    const key = { A: "As", AAAA: "AAAAs", SRV: "SRVs" } as const;
    for (const r of records) ((asAxfr.Records[key[r.type]] as Record<string, string[]>)[r.name] ??= []).push(r.value);
    expect(recordsFromAxfr(asAxfr)).toEqual(records);
  });
});

// [app, framework, A of <app>.<framework>.mesos.thisdcos.directory, SRV port of _<srv>._<app>._tcp…]
const MIRRORED: Array<[string, string, string, string | undefined, number | undefined]> = [
  ["none-on-host", "marathon", "172.17.0.5", "http", 31775],
  ["none-on-dcos", "marathon", "172.17.0.5", undefined, undefined],
  ["ucr-on-host", "marathon", "172.17.0.5", "http", 5463],
  ["ucr-on-bridge", "marathon", "172.17.0.6", "http", 18236],
  ["ucr-on-dcos", "marathon", "172.17.0.6", undefined, undefined],
  ["docker-on-host", "marathon", "172.17.0.6", "http", 12018],
  ["docker-on-bridge", "marathon", "172.17.0.5", "http", 23866],
  ["docker-on-dcos", "marathon", "172.17.0.5", undefined, undefined],
  ["pod-on-host", "marathon", "172.17.0.6", "http", 11462],
  ["pod-on-bridge", "marathon", "172.17.0.5", "http", 7699],
  ["pod-on-dcos", "marathon", "172.17.0.5", undefined, undefined],
  ["hello-world", "marathon", "172.17.0.5", "api", 9453],
  ["world-0-server", "hello-world", "172.17.0.5", undefined, undefined],
  ["world-1-server", "hello-world", "172.17.0.6", undefined, undefined],
  ["hello-0-server", "hello-world", "172.17.0.6", undefined, undefined],
];

describe("mesosZones: the mesos.thisdcos.directory mirror of axfr.json = dcos_dns_mesos_dns_tests", () => {
  const records = recordsFromAxfr(axfr);
  const zones = mesosZones(records, opts);
  const mirror = zones[1];

  it("returns [mesos, mirror]; the mirror is never in compat mode", () => {
    expect(zones.map((z) => z.origin)).toEqual(["mesos", MESOS_MIRROR_ORIGIN]);
    expect(mirror?.mesosDnsCompat).toBeUndefined();
  });

  it("marathon: marathon.mesos.thisdcos.directory A 172.17.0.4", () => {
    expect(resolve(mirror, `marathon.${MESOS_MIRROR_ORIGIN}`).map((r) => r.data)).toEqual(["172.17.0.4"]);
  });

  it.each(MIRRORED)("%s.%s: A %s, SRV _%s port %s", (app, fw, ip, srv, port) => {
    expect(resolve(mirror, `${app}.${fw}.${MESOS_MIRROR_ORIGIN}`)).toEqual([{ type: "A", ttl: 5, data: ip }]);
    if (srv === undefined) return;
    const rrs = resolve(mirror, `_${srv}._${app}._tcp.${fw}.${MESOS_MIRROR_ORIGIN}`, "SRV");
    expect(rrs).toHaveLength(1);
    expect(rrs[0]).toMatchObject({ ttl: 5, data: { port, priority: 1, weight: 1 } });
    // The target is re-rooted too and resolves in the mirror.
    const target = (rrs[0]?.data as { target: string }).target;
    expect(target).toMatch(new RegExp(`^${app}-[a-z0-9]+-s\\d+\\.${fw}\\.mesos\\.thisdcos\\.directory$`));
    expect(resolve(mirror, target)).toHaveLength(1);
  });

  it("docker-on-ipv6: AAAA fd01:b::2:8000:0:2", () => {
    expect(resolve(mirror, `docker-on-ipv6.marathon.${MESOS_MIRROR_ORIGIN}`, "AAAA").map((r) => r.data)).toEqual(["fd01:b::2:8000:0:2"]);
  });

  it("mirrors every AXFR record (126) with TTL 5 and dcos-net's SOA/NS, and keeps the .mesos zone at TTL 60", () => {
    expect(records).toHaveLength(126);
    expect(zoneSize(mirror as Zone)).toBe(126 + 2);
    expect(zoneSize(zones[0] as Zone)).toBe(126 + 2);
    expect(mirror?.soa).toEqual({ ttl: 5, data: { mname: "ns.spartan", rname: "support.mesosphere.com", serial: 1, refresh: 60, retry: 180, expire: 86400, minimum: 1 } });
    expect(mirror?.ns).toEqual({ ttl: 3600, names: ["ns.spartan"] });
    for (const row of zoneRecords(mirror as Zone)) {
      expect(row.name.endsWith(`${MESOS_MIRROR_ORIGIN}.`)).toBe(true);
      if (row.type !== "SOA" && row.type !== "NS") expect(row.ttl).toBe(5);
      if (row.type === "SRV") expect(row.data).toMatch(/\.mesos\.thisdcos\.directory\.$/);
    }
    expect(resolve(zones[0], "marathon.mesos")[0]?.ttl).toBe(60);
  });

  it("takes the mirror TTL and other dcos-dns overrides", () => {
    const m = mesosZones(records, { ...opts, mirrorTtl: 9, mirrorDefaults: { serial: 77 } })[1];
    expect(resolve(m, `marathon.${MESOS_MIRROR_ORIGIN}`)[0]?.ttl).toBe(9);
    expect(m?.soa.data.serial).toBe(77);
  });
});

describe("mesos helpers", () => {
  it("mirrorName re-roots names of the domain only", () => {
    expect(mirrorName("a.marathon.mesos.", "mesos")).toBe("a.marathon.mesos.thisdcos.directory");
    expect(mirrorName("mesos.", "mesos")).toBe(MESOS_MIRROR_ORIGIN);
    expect(mirrorName("a.notmesos.", "mesos")).toBeUndefined();
    expect(mirrorName("a.b.mesos.example", "mesos.example")).toBe("a.b.mesos.thisdcos.directory");
  });

  it("parseSrvValue splits at the last colon", () => {
    expect(parseSrvValue("x.marathon.mesos.:31775")).toEqual({ target: "x.marathon.mesos.", port: 31775 });
    expect(parseSrvValue("x.mesos.:0")).toEqual({ target: "x.mesos.", port: 0 });
    for (const bad of ["x.mesos.", ":80", "x:65536", "x:-1", "x:8a"]) expect(parseSrvValue(bad)).toBeUndefined();
  });

  it("reports records it cannot place instead of throwing", () => {
    const problems: ZoneProblem[] = [];
    const bad: DnsRecord[] = [
      { name: "x.other.", type: "A", value: "10.0.0.1" },
      { name: "_s._tcp.x.mesos.", type: "SRV", value: "nohost" },
      { name: "_s._tcp.x.mesos.", type: "SRV", value: "y.other.:80" },
      { name: "x.slave.mesos.", type: "A", value: "agent-host" }, // Mesos-DNS bug #509
      { name: "ok.mesos.", type: "A", value: "10.0.0.2" },
    ];
    const [m, mirror] = mesosZones(bad, { ...opts, onProblem: (p) => problems.push(p) });
    expect(problems).toHaveLength(8);
    expect(zoneSize(m as Zone)).toBe(3);
    expect(zoneSize(mirror as Zone)).toBe(3);
  });

  it("recordsFromAxfr never throws and reports what it skips", () => {
    const problems: ZoneProblem[] = [];
    expect(recordsFromAxfr(null, (p) => problems.push(p))).toEqual([]);
    expect(recordsFromAxfr({ Records: { As: { "a.mesos.": ["10.0.0.1", 7] }, SRVs: [], AAAAs: null } }, (p) => problems.push(p))).toEqual([
      { name: "a.mesos.", type: "A", value: "10.0.0.1" },
    ]);
    expect(problems.map((p) => p.item)).toEqual(["axfr", "axfr As a.mesos.", "axfr Records.SRVs"]);
    fc.assert(fc.property(fc.jsonValue(), (v) => Array.isArray(recordsFromAxfr({ Records: v }))), { numRuns: 200 });
  });
});
