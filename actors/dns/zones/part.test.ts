// The zone-part contract's machinery: a part's state stays its own, a zone outside the declared
// origins is never served, two parts cannot claim one zone, and overlapping watches deliver once.
import { describe, expect, it } from "@jest/globals";
import type { KeyView, WatchEvent } from "../../gossip/index.js";
import { ZonePartConflictError } from "../errors.js";
import { ZoneBuilder } from "./builder.js";
import { checkZoneParts, runZonePart, watchCover, type ZoneBuildContext, type ZonePart } from "./part.js";

const ts = { t: 1, c: 0, r: "x" };
const lww = (value: unknown) => ({ type: "lww", value, ts }) as KeyView[string];
const ev = (key: string, value: KeyView | undefined): WatchEvent => ({ key, value, initial: false });
const ctx: ZoneBuildContext = { defaults: { ttl: 7, negativeTtl: 2, serial: 100 }, nodeId: "n1", nodeIp: "10.0.0.1" };

/** `<name>.<origin>` A <ip> for every key `<prefix><name>` with an `ip` field. */
function namesPart(name: string, origin: string, prefix: string, extra: readonly string[] = []): ZonePart<Map<string, string>> {
  return {
    name,
    origins: [origin],
    watch: [prefix],
    init: () => new Map(),
    fold(names, e) {
      const ip = e.value?.ip;
      const owner = e.key.slice(prefix.length);
      if (ip?.type === "lww" && typeof ip.value === "string") return names.get(owner) !== ip.value && Boolean(names.set(owner, ip.value));
      return names.delete(owner);
    },
    build(names, c) {
      const b = ZoneBuilder.dcos(origin, c.defaults);
      for (const [owner, ip] of names) b.addAddress(`${owner}.${origin}`, ip);
      return [b.build(), ...extra.map((o) => ZoneBuilder.dcos(o, c.defaults).build())];
    },
  };
}

describe("zone parts", () => {
  it("a running part folds into its own state and builds from it with the context's defaults", () => {
    const part = namesPart("hello", "hello.thisdcos.directory", "hello/");
    const a = runZonePart(part);
    const b = runZonePart(part);
    expect(a.watches("hello/x")).toBe(true);
    expect(a.watches("tasks/x")).toBe(false);
    expect(a.fold(ev("hello/web", { ip: lww("10.1.0.1") }))).toBe(true);
    expect(a.fold(ev("hello/web", { ip: lww("10.1.0.1") }))).toBe(false);
    expect(a.fold(ev("hello/gone", undefined))).toBe(false);
    const [zone] = a.build(ctx, () => undefined);
    expect(zone?.names.get("web.hello.thisdcos.directory")?.get("A")).toEqual([{ type: "A", ttl: 7, data: "10.1.0.1" }]);
    expect(zone?.soa.data).toMatchObject({ serial: 100, minimum: 2 });
    // Each incarnation starts from init: the other one saw nothing.
    expect(b.build(ctx, () => undefined)[0]?.names.has("web.hello.thisdcos.directory")).toBe(false);
  });

  it("a zone outside the part's declared origins is left out and reported", () => {
    const strays: string[] = [];
    const part = runZonePart(namesPart("greedy", "Greedy.thisdcos.directory.", "g/", ["dcos.thisdcos.directory"]));
    expect(part.build(ctx, (o) => strays.push(o)).map((z) => z.origin)).toEqual(["greedy.thisdcos.directory"]);
    expect(strays).toEqual(["dcos.thisdcos.directory"]);
  });

  it("two parts claiming one origin (compared normalised), or one name, are rejected", () => {
    const hello = namesPart("hello", "hello.thisdcos.directory", "hello/");
    expect(() => checkZoneParts([hello, namesPart("other", "hello.thisdcos.directory", "o/")])).toThrow(ZonePartConflictError);
    expect(() => checkZoneParts([hello, namesPart("other", "HELLO.thisdcos.directory.", "o/")])).toThrow('DNS zone hello.thisdcos.directory is claimed by two zone parts: "hello" and "other"');
    expect(() => checkZoneParts([hello, namesPart("hello", "bye.thisdcos.directory", "o/")])).toThrow('two DNS zone parts are named "hello"');
    expect(() => checkZoneParts([hello, namesPart("other", "bye.thisdcos.directory", "hello/")])).not.toThrow();
    try {
      checkZoneParts([hello, hello]);
    } catch (err) {
      expect((err as ZonePartConflictError).code).toBe("DCNET_E_DNS_ZONE_PART_CONFLICT");
    }
  });

  it("watches are covered by the fewest prefixes, so a key reaches the actor once", () => {
    expect(watchCover([{ watch: ["tasks/", "nodes/", "mesos/leader"] }, { watch: ["dns/mesos/"] }, { watch: [] }])).toEqual(["dns/mesos/", "mesos/leader", "nodes/", "tasks/"]);
    expect(watchCover([{ watch: ["mesos/leader"] }, { watch: ["mesos/"] }, { watch: ["tasks/"] }, { watch: ["tasks/"] }])).toEqual(["mesos/", "tasks/"]);
  });
});
