// answerQuery against the fixture zones of testkit.ts: RFC behaviour, renames, Mesos-DNS quirks.
import { describe, expect, it } from "@jest/globals";
import { answerQuery } from "./answer.js";
import { FLAG } from "./codes.js";
import { ask, fixtureZones, lines, makeZone, makeZoneSet, parsed, queryBuf, rec } from "../../../testkit/dns/wire.js";

const zs = fixtureZones();
const D = "dcos.thisdcos.directory";
const APP = `app.marathon.agentip.${D}`;
const SOA_LINE = (owner: string): string => `${owner} SOA ns.spartan support.mesosphere.com`;

describe("zone selection", () => {
  it("forwards names outside every zone", () => {
    expect(answerQuery(zs, parsed(queryBuf("www.example.com")))).toEqual({ kind: "forward" });
    expect(answerQuery(zs, parsed(queryBuf("thisdcos.directory")))).toEqual({ kind: "forward" });
    // "xmesos" ends with "mesos" but not on a label boundary
    expect(answerQuery(zs, parsed(queryBuf("xmesos")))).toEqual({ kind: "forward" });
  });

  it("picks the longest origin", () => {
    const z = makeZoneSet([makeZone("directory", []), makeZone(D, [[`a.${D}`, rec.a("1.1.1.1")]])]);
    expect(ask(z, `a.${D}`).zone).toBe(D);
    expect(ask(z, "b.directory").zone).toBe("directory");
  });

  it("does not treat an escaped dot as a label boundary", () => {
    // One label "a.spartan" (with a dot byte) directly under the root, as a hostile client may send.
    const wire = Buffer.concat([Buffer.from("000101000001000000000000", "hex"), Buffer.from([9]), Buffer.from("a.spartan"), Buffer.from([0, 0, 1, 0, 1])]);
    const q = parsed(wire);
    expect(q.question.name).toBe("a\\.spartan");
    expect(answerQuery(zs, q)).toEqual({ kind: "forward" });
  });
});

describe("RFC answers", () => {
  it("A: every record, owner = question as sent, AA, RD copied, RA when asked for", () => {
    const r = ask(zs, "APP.marathon.AgentIP.dcos.thisdcos.directory", "A", { id: 42, recursionAvailable: true });
    expect(r.rcode).toBe("NOERROR");
    expect(lines([...r.packet.answers])).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((ip) => `APP.marathon.AgentIP.dcos.thisdcos.directory A ${ip}`));
    expect(r.packet.id).toBe(42);
    expect(r.packet.flags & (FLAG.AA | FLAG.RD | FLAG.RA)).toBe(FLAG.AA | FLAG.RD | FLAG.RA);
    expect(r.packet.flags & 0xf).toBe(0);
    expect(r.packet.questions).toEqual([{ name: "APP.marathon.AgentIP.dcos.thisdcos.directory", type: "A", class: "IN" }]);
  });

  it("RA is clear unless the node forwards (issue 16, defect 1)", () => {
    expect(ask(zs, APP, "A").packet.flags & FLAG.RA).toBe(0);
  });

  it("RD clear stays clear; RA follows the option; CD is copied", () => {
    const r = ask(zs, APP, "A", { rd: false, cd: true, recursionAvailable: false });
    expect(r.packet.flags & (FLAG.RD | FLAG.RA | FLAG.CD)).toBe(FLAG.CD);
  });

  it("AAAA", () => {
    expect(lines([...ask(zs, APP, "AAAA").packet.answers])).toEqual([`${APP} AAAA fd01::1`]);
  });

  it("SRV: answers plus every A/AAAA of each target as additional", () => {
    const r = ask(zs, `_http._tcp.web.${D}`, "SRV");
    expect(lines([...r.packet.answers])).toEqual([`_http._tcp.web.${D} SRV 8080 web-1.${D}`, `_http._tcp.web.${D} SRV 8081 web-2.${D}`]);
    expect(lines([...r.packet.additionals])).toEqual([`web-1.${D} A 10.1.0.1`, `web-1.${D} A 10.1.0.2`, `web-1.${D} AAAA fd00::1`, `web-2.${D} A 10.1.0.3`]);
  });

  it("CNAME chase: CNAMEs first, then the target's records", () => {
    const r = ask(zs, `alias2.${D}`, "A");
    expect(lines([...r.packet.answers])).toEqual([`alias2.${D} CNAME alias.${D}`, `alias.${D} CNAME ${APP}`, `${APP} A 10.0.0.1`, `${APP} A 10.0.0.2`, `${APP} A 10.0.0.3`]);
    expect(r.rcode).toBe("NOERROR");
  });

  it("CNAME chase crosses zones we hold", () => {
    expect(lines([...ask(zs, `tovip.${D}`).packet.answers])).toEqual([`tovip.${D} CNAME vip.fw.l4lb.thisdcos.directory`, "vip.fw.l4lb.thisdcos.directory A 11.0.0.1"]);
  });

  it("CNAME to a name outside our zones: just the CNAME", () => {
    const r = ask(zs, `ext.${D}`, "A");
    expect(lines([...r.packet.answers])).toEqual([`ext.${D} CNAME www.example.com`]);
    expect(r.packet.authorities).toEqual([]);
  });

  it("CNAME loop stops after one turn", () => {
    const r = ask(zs, `loop1.${D}`, "A");
    expect(lines([...r.packet.answers])).toEqual([`loop1.${D} CNAME loop2.${D}`, `loop2.${D} CNAME loop1.${D}`]);
  });

  it("CNAME chains stop at depth 8", () => {
    const chain = makeZone("c", Array.from({ length: 20 }, (_, i) => [`n${i}.c`, rec.cname(`n${i + 1}.c`)] as const));
    expect(ask(makeZoneSet([chain]), "n0.c").packet.answers).toHaveLength(8);
  });

  it("CNAME to a missing name in our zone: NXDOMAIN (RFC 6604) with the CNAME and SOA", () => {
    const r = ask(zs, `dangling.${D}`);
    expect(r.rcode).toBe("NXDOMAIN");
    expect(lines([...r.packet.answers])).toEqual([`dangling.${D} CNAME nothere.${D}`]);
    expect(lines([...r.packet.authorities])).toEqual([SOA_LINE(D)]);
  });

  it("qtype CNAME returns the CNAME without chasing", () => {
    expect(lines([...ask(zs, `alias.${D}`, "CNAME").packet.answers])).toEqual([`alias.${D} CNAME ${APP}`]);
  });

  it("SOA and NS at the apex are answers", () => {
    expect(lines([...ask(zs, D, "SOA").packet.answers])).toEqual([SOA_LINE(D)]);
    expect(lines([...ask(zs, D, "NS").packet.answers])).toEqual([`${D} NS ns.spartan`]);
  });

  it("the apex answers SOA/NS even when the zone's names map omits them", () => {
    const z = makeZone("bare", []);
    const bare = makeZoneSet([{ ...z, names: new Map() }]);
    expect(lines([...ask(bare, "bare", "SOA").packet.answers])).toEqual([SOA_LINE("bare")]);
    expect(lines([...ask(bare, "bare", "NS").packet.answers])).toEqual(["bare NS ns.spartan"]);
  });

  it("ANY returns every record of the name", () => {
    expect(lines([...ask(zs, APP, "ANY").packet.answers])).toEqual([`${APP} A 10.0.0.1`, `${APP} A 10.0.0.2`, `${APP} A 10.0.0.3`, `${APP} AAAA fd01::1`]);
  });

  it("NXDOMAIN with the SOA, TTL = min(SOA TTL, minimum)", () => {
    const r = ask(zs, `nope.${D}`, "A");
    expect(r.rcode).toBe("NXDOMAIN");
    expect(r.packet.flags & 0xf).toBe(3);
    expect(r.packet.answers).toEqual([]);
    expect(r.packet.authorities).toMatchObject([{ name: D, type: "SOA", ttl: 1 }]);
    const slow = makeZoneSet([makeZone("z", [], { ttl: 30, minimum: 600 })]);
    expect(ask(slow, "nope.z").packet.authorities).toMatchObject([{ ttl: 30 }]);
  });

  it("NODATA: the name exists but has no records of the type", () => {
    const r = ask(zs, `web-2.${D}`, "AAAA");
    expect(r.rcode).toBe("NOERROR");
    expect(r.packet.answers).toEqual([]);
    expect(r.packet.authorities).toMatchObject([{ name: D, type: "SOA", ttl: 1 }]);
    expect(ask(zs, APP, "TXT").rcode).toBe("NOERROR");
    expect(ask(zs, `_http._tcp.web.${D}`, "A").rcode).toBe("NOERROR");
  });

  it("empty non-terminals are NODATA, not NXDOMAIN", () => {
    for (const ent of [`marathon.agentip.${D}`, `agentip.${D}`, `_tcp.web.${D}`]) {
      const r = ask(zs, ent, "A");
      expect([ent, r.rcode, r.packet.authorities.length]).toEqual([ent, "NOERROR", 1]);
    }
  });

  it("is case-insensitive; NXDOMAIN owner of the SOA is the zone apex", () => {
    expect(ask(zs, "READY.SPARTAN").packet.answers).toMatchObject([{ name: "READY.SPARTAN", data: "127.0.0.1" }]);
    expect(ask(zs, "NOPE.Spartan").packet.authorities).toMatchObject([{ name: "spartan" }]);
  });

  it("REFUSED for class CH inside our zones, and for zone transfers", () => {
    for (const r of [ask(zs, "ready.spartan", "A", { klass: "CH" }), ask(zs, "spartan", "AXFR")]) {
      expect(r.rcode).toBe("REFUSED");
      expect(r.packet.flags & FLAG.AA).toBe(0);
      expect(r.packet.flags & 0xf).toBe(5);
    }
    expect(ask(zs, "ready.spartan", "A", { klass: "ANY" }).packet.answers).toHaveLength(1);
  });

  it("IXFR is REFUSED like AXFR (issue 16, defect 2)", () => {
    const r = ask(zs, "spartan", "IXFR");
    expect([r.rcode, r.packet.flags & FLAG.AA, r.packet.answers]).toEqual(["REFUSED", 0, []]);
  });

  it("QCLASS ANY: answered, but not authoritative (issue 16, defect 5)", () => {
    const r = ask(zs, "ready.spartan", "A", { klass: "ANY" });
    expect([r.rcode, r.packet.answers.length, r.packet.flags & FLAG.AA]).toEqual(["NOERROR", 1, 0]);
    expect(ask(zs, "ready.spartan", "A").packet.flags & FLAG.AA).toBe(FLAG.AA);
  });

  it("answers carry no OPT decision: noOpt is false outside compat zones", () => {
    expect(ask(zs, "ready.spartan").noOpt).toBe(false);
  });
});

describe("renames (dcos-dns)", () => {
  it("*.thisdcos.global is looked up under thisdcos.directory and answered under the asked suffix", () => {
    const r = ask(zs, "Alias.DCOS.thisdcos.GLOBAL", "A");
    expect(r.zone).toBe(D);
    expect(lines([...r.packet.answers])).toEqual([
      `Alias.DCOS.thisdcos.GLOBAL CNAME app.marathon.agentip.dcos.thisdcos.GLOBAL`,
      ...["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((ip) => `app.marathon.agentip.dcos.thisdcos.GLOBAL A ${ip}`),
    ]);
  });

  it("negative answers rename the SOA owner too", () => {
    expect(lines([...ask(zs, "nope.dcos.thisdcos.global").packet.authorities])).toEqual([SOA_LINE("dcos.thisdcos.global")]);
  });

  it("dclb.thisdcos.directory and dclb.thisdcos.global map to l4lb.thisdcos.directory", () => {
    for (const suffix of ["dclb.thisdcos.directory", "dclb.thisdcos.global"]) {
      const r = ask(zs, `vip.fw.${suffix}`);
      expect([r.zone, lines([...r.packet.answers])]).toEqual(["l4lb.thisdcos.directory", [`vip.fw.${suffix} A 11.0.0.1`]]);
      expect(lines([...ask(zs, `none.${suffix}`).packet.authorities])).toEqual([SOA_LINE(suffix)]);
    }
  });

  it("SRV targets and additional owners are renamed back", () => {
    const r = ask(zs, "_http._tcp.web.dcos.thisdcos.global", "SRV");
    expect(r.packet.answers.map((a) => (a.type === "SRV" ? a.data.target : ""))).toEqual(["web-1.dcos.thisdcos.global", "web-2.dcos.thisdcos.global"]);
    expect(new Set(r.packet.additionals.map((a) => a.name))).toEqual(new Set(["web-1.dcos.thisdcos.global", "web-2.dcos.thisdcos.global"]));
  });

  it("the real names are not renamed; renames can be turned off", () => {
    expect(lines([...ask(zs, `alias.${D}`).packet.answers])[0]).toBe(`alias.${D} CNAME ${APP}`);
    expect(answerQuery(zs, parsed(queryBuf("ready.thisdcos.global")), { renames: [] })).toEqual({ kind: "forward" });
  });
});

describe("Mesos-DNS compatibility zone vs RFC zone", () => {
  const rfcMesos = makeZoneSet([{ ...(zs.zones.get("mesos") as ReturnType<typeof makeZone>), mesosDnsCompat: false }]);

  it("strips .* labels before lookup (owner stays as sent)", () => {
    expect(lines([...ask(zs, "app.*.marathon.*.mesos").packet.answers])).toEqual(["app.*.marathon.*.mesos A 10.2.0.1", "app.*.marathon.*.mesos A 10.2.0.2"]);
    expect(ask(rfcMesos, "app.*.marathon.*.mesos").rcode).toBe("NXDOMAIN");
  });

  it("SOA/NS for any name: authority section, owner = question, NOERROR", () => {
    for (const name of ["Mesos", "whatever.mesos"]) {
      const soa = ask(zs, name, "SOA");
      expect([soa.rcode, soa.packet.answers, lines([...soa.packet.authorities])]).toEqual(["NOERROR", [], [SOA_LINE(name)]]);
      const ns = ask(zs, name, "NS");
      expect([ns.rcode, ns.packet.answers, lines([...ns.packet.authorities])]).toEqual(["NOERROR", [], [`${name} NS ns.spartan`]]);
    }
    expect(ask(rfcMesos, "whatever.mesos", "SOA").rcode).toBe("NXDOMAIN");
    expect(lines([...ask(rfcMesos, "mesos", "SOA").packet.answers])).toEqual([SOA_LINE("mesos")]);
  });

  it("a missing SRV is NOERROR with nothing at all", () => {
    const r = ask(zs, "_nope._tcp.marathon.mesos", "SRV");
    expect([r.rcode, r.packet.answers, r.packet.authorities, r.packet.additionals]).toEqual(["NOERROR", [], [], []]);
    expect(ask(rfcMesos, "_nope._tcp.marathon.mesos", "SRV").rcode).toBe("NXDOMAIN");
  });

  it("a missing A is still NXDOMAIN with the SOA", () => {
    const r = ask(zs, "nope.mesos", "A");
    expect([r.rcode, lines([...r.packet.authorities])]).toEqual(["NXDOMAIN", [SOA_LINE("mesos")]]);
    expect(r.packet.authorities[0]).toMatchObject({ ttl: 60 });
  });

  it("SRV additional: first A and first AAAA per target (RFC zone: all)", () => {
    const compat = ask(zs, "_app._tcp.marathon.mesos", "SRV");
    expect(lines([...compat.packet.additionals])).toEqual(["app-a1.marathon.slave.mesos A 10.3.0.1", "app-a2.marathon.slave.mesos A 10.3.0.2", "app-a2.marathon.slave.mesos AAAA fd03::2"]);
    expect(ask(rfcMesos, "_app._tcp.marathon.mesos", "SRV").packet.additionals).toHaveLength(4);
  });

  it("ANY: SRV+A+AAAA answers, SOA and NS in authority", () => {
    const r = ask(zs, "app.marathon.mesos", "ANY");
    expect(lines([...r.packet.answers])).toEqual(["app.marathon.mesos A 10.2.0.1", "app.marathon.mesos A 10.2.0.2"]);
    expect(lines([...r.packet.authorities])).toEqual([SOA_LINE("app.marathon.mesos"), "app.marathon.mesos NS ns.spartan"]);
    expect(ask(zs, "nope.mesos", "ANY").rcode).toBe("NXDOMAIN");
  });

  it("signals noOpt", () => {
    expect(ask(zs, "app.marathon.mesos").noOpt).toBe(true);
    expect(ask(rfcMesos, "app.marathon.mesos").noOpt).toBe(false);
  });
});

describe("rotation", () => {
  const addrs = (id: number, rotation: "round_robin" | "random" | "off", random?: () => number): string[] =>
    ask(zs, `alias.${D}`, "A", { id, rotation, ...(random ? { random } : {}) }).packet.answers.map((a) => `${a.type} ${typeof a === "object" && "data" in a ? String(a.data) : ""}`);

  it("round_robin rotates each RRset by id mod n; CNAME stays first", () => {
    expect(addrs(0, "round_robin")).toEqual([`CNAME ${APP}`, "A 10.0.0.1", "A 10.0.0.2", "A 10.0.0.3"]);
    expect(addrs(1, "round_robin")).toEqual([`CNAME ${APP}`, "A 10.0.0.2", "A 10.0.0.3", "A 10.0.0.1"]);
    expect(addrs(5, "round_robin")).toEqual([`CNAME ${APP}`, "A 10.0.0.3", "A 10.0.0.1", "A 10.0.0.2"]);
    expect(ask(zs, APP, "A", { rotation: "round_robin" }).variants).toBe(3);
  });

  it("off is stable whatever the id", () => {
    expect(addrs(1, "off")).toEqual(addrs(0, "off"));
    expect(addrs(7, "off")).toEqual(addrs(0, "off"));
    expect(ask(zs, APP, "A", { rotation: "off" }).variants).toBe(1);
  });

  it("random shuffles with the given source; CNAME stays first", () => {
    const seq = [0.9, 0.1];
    let i = 0;
    const out = addrs(0, "random", () => seq[i++ % seq.length] ?? 0);
    expect(out[0]).toBe(`CNAME ${APP}`);
    expect(out.slice(1).sort()).toEqual(["A 10.0.0.1", "A 10.0.0.2", "A 10.0.0.3"]);
    expect(out.slice(1)).not.toEqual(["A 10.0.0.1", "A 10.0.0.2", "A 10.0.0.3"]);
  });

  it("variants is the lcm of RRset sizes (ANY: 3 A and 1 AAAA → 3; SRV 2)", () => {
    expect(ask(zs, APP, "ANY", { rotation: "round_robin" }).variants).toBe(3);
    expect(ask(zs, `_http._tcp.web.${D}`, "SRV", { rotation: "round_robin" }).variants).toBe(2);
  });
});
