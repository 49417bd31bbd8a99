// DNS's own zone parts, registered in one list: which exist for which config, which zones each
// claims, and that a subsystem's part cannot take one of them over.
import { describe, expect, it } from "@jest/globals";
import type { KeyView, WatchEvent } from "../../../gossip/index.js";
import { dnsConfigSection } from "../../config.js";
import { ZonePartConflictError } from "../../errors.js";
import { runZonePart, type ZoneBuildContext, type ZonePart } from "../part.js";
import { builtinZoneParts, zonePartsFor } from "./builtin.js";
import { mesosRecordsKey } from "./inputs.js";

const ts = { t: 1, c: 0, r: "x" };
const lww = (value: unknown) => ({ type: "lww", value, ts }) as KeyView[string];
const ev = (key: string, value: KeyView | undefined): WatchEvent => ({ key, value, initial: false });
const ctx: ZoneBuildContext = { defaults: { ttl: 5, negativeTtl: 1, serial: 1 }, nodeId: "n1", nodeIp: "10.0.0.9" };
const dns = (raw: Record<string, unknown> = {}) => dnsConfigSection.parse(raw);
const fixed = (origin: string): ZonePart<undefined> => ({ name: `x-${origin}`, origins: [origin], watch: [], init: () => undefined, fold: () => false, build: () => [] });

describe("built-in zone parts", () => {
  it("dcos, mesos (native only), thisnode and the custom zones, with the origins each claims", () => {
    const parts = builtinZoneParts(dns({ zones: { "component.thisdcos.directory": [{ type: "cname", name: "registry", value: "master.dcos.thisdcos.directory" }] } }));
    expect(parts.map((p) => [p.name, p.origins])).toEqual([
      ["dcos", ["dcos.thisdcos.directory"]],
      ["mesos", ["mesos", "mesos.thisdcos.directory"]],
      ["thisnode", ["thisnode.thisdcos.directory"]],
      ["custom", ["component.thisdcos.directory"]],
    ]);
    expect(builtinZoneParts(dns({ mesos: { mode: "forward" } })).map((p) => p.name)).toEqual(["dcos", "thisnode", "custom"]);
    expect(builtinZoneParts(dns({ mesos: { mirror: false, domain: "corp" } }))[1]?.origins).toEqual(["corp"]);
  });

  it("thisnode takes the configured IP over the node's own; custom zones build from config alone", () => {
    const [, , thisnode, custom] = builtinZoneParts(dns({ thisnode: { ip: "10.0.0.1" }, zones: { "component.thisdcos.directory": [{ type: "cname", name: "registry", value: "master.dcos.thisdcos.directory" }] } })).map(runZonePart);
    expect(thisnode?.build(ctx, () => undefined)[0]?.names.get("thisnode.thisdcos.directory")?.get("A")?.map((r) => r.data)).toEqual(["10.0.0.1"]);
    const own = runZonePart(builtinZoneParts(dns())[2] as ZonePart);
    expect(own.build(ctx, () => undefined)[0]?.names.get("thisnode.thisdcos.directory")?.get("A")?.map((r) => r.data)).toEqual(["10.0.0.9"]);
    expect(custom?.build(ctx, () => undefined)[0]?.names.get("registry.component.thisdcos.directory")?.get("CNAME")?.map((r) => r.data)).toEqual(["master.dcos.thisdcos.directory"]);
  });

  it("the mesos part serves the published record sets in both zones", () => {
    const mesos = runZonePart(builtinZoneParts(dns())[1] as ZonePart);
    expect(mesos.fold(ev(mesosRecordsKey("web.marathon.mesos"), { rrs: lww(["A 10.0.0.1"]) }))).toBe(true);
    const zones = mesos.build(ctx, () => undefined);
    expect(zones.map((z) => z.origin)).toEqual(["mesos", "mesos.thisdcos.directory"]);
    expect(zones[0]?.names.get("web.marathon.mesos")?.get("A")).toEqual([{ type: "A", ttl: 60, data: "10.0.0.1" }]);
    expect(zones[1]?.names.get("web.marathon.mesos.thisdcos.directory")?.get("A")).toEqual([{ type: "A", ttl: 5, data: "10.0.0.1" }]);
  });

  it("another subsystem's part comes after DNS's own, and may not claim one of their zones", () => {
    expect(zonePartsFor(dns(), [fixed("l4lb.thisdcos.directory")]).map((p) => p.name)).toEqual(["dcos", "mesos", "thisnode", "custom", "x-l4lb.thisdcos.directory"]);
    expect(() => zonePartsFor(dns(), [fixed("dcos.thisdcos.directory")])).toThrow(ZonePartConflictError);
    expect(() => zonePartsFor(dns(), [fixed("mesos.thisdcos.directory")])).toThrow('DNS zone mesos.thisdcos.directory is claimed by two zone parts: "mesos" and "x-mesos.thisdcos.directory"');
    expect(() => zonePartsFor(dns({ mesos: { mode: "off" } }), [fixed("mesos.thisdcos.directory")])).not.toThrow();
  });
});
