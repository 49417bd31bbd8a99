// The dcos-dns alias suffixes, both directions.
import { describe, expect, it } from "@jest/globals";
import { stripWildcards } from "./mesos-compat.js";
import { renameBack, renameQuery } from "./rename.js";

describe("renameQuery", () => {
  it.each([
    ["a.dcos.thisdcos.global", "a.dcos.thisdcos.directory"],
    ["thisdcos.global", "thisdcos.directory"],
    ["vip.fw.dclb.thisdcos.directory", "vip.fw.l4lb.thisdcos.directory"],
    ["vip.fw.dclb.thisdcos.global", "vip.fw.l4lb.thisdcos.directory"],
    ["VIP.fw.DCLB.ThisDCOS.Global", "vip.fw.l4lb.thisdcos.directory"],
    ["a.dcos.thisdcos.directory", "a.dcos.thisdcos.directory"],
    ["xthisdcos.global", "xthisdcos.global"],
    // one label "a.thisdcos" under "global": not below thisdcos.global
    ["a\\.thisdcos.global", "a\\.thisdcos.global"],
  ])("%s → %s", (asked, lookup) => {
    expect(renameQuery(asked).lookup).toBe(lookup);
  });

  it("has no back mapping when nothing was renamed", () => {
    expect(renameQuery("a.mesos").back).toBeUndefined();
  });

  it("maps answer names back to the suffix as the client spelled it", () => {
    const { back } = renameQuery("X.Dcos.ThisDcos.GLOBAL");
    expect(back?.("y.dcos.thisdcos.directory")).toBe("y.dcos.ThisDcos.GLOBAL");
    expect(back?.("thisdcos.directory")).toBe("ThisDcos.GLOBAL");
    expect(back?.("ns.spartan")).toBe("ns.spartan");
    expect(back?.("notthisdcos.directory")).toBe("notthisdcos.directory");
    const l4lb = renameQuery("v.f.dclb.thisdcos.directory").back;
    expect(l4lb?.("v.f.l4lb.thisdcos.directory")).toBe("v.f.dclb.thisdcos.directory");
    expect(l4lb?.("a.dcos.thisdcos.directory")).toBe("a.dcos.thisdcos.directory");
  });

  it("takes extra rules (the cluster crypto-id alias)", () => {
    const rules = [{ from: "abc123.dcos.directory", to: "thisdcos.directory" }];
    const r = renameQuery("leader.dcos.abc123.dcos.directory", rules);
    expect(r.lookup).toBe("leader.dcos.thisdcos.directory");
    expect(r.back?.("leader.dcos.thisdcos.directory")).toBe("leader.dcos.abc123.dcos.directory");
  });

  it("renameBack only touches whole trailing labels", () => {
    expect(renameBack("a.l4lb.thisdcos.directory", "l4lb.thisdcos.directory", "dclb.thisdcos.global")).toBe("a.dclb.thisdcos.global");
    expect(renameBack("xl4lb.thisdcos.directory", "l4lb.thisdcos.directory", "dclb.thisdcos.global")).toBe("xl4lb.thisdcos.directory");
  });
});

describe("stripWildcards (Mesos-DNS cleanWild)", () => {
  it.each([
    ["bob.*.mesos", "bob.mesos"],
    ["_http._tcp.*.*.mesos", "_http._tcp.mesos"],
    ["*.mesos", "*.mesos"],
    ["a.*b.mesos", "a.*b.mesos"],
    ["plain.mesos", "plain.mesos"],
  ])("%s → %s", (name, want) => {
    expect(stripWildcards(name)).toBe(want);
  });
});
