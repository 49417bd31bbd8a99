// Custom CNAME zones: dcos-net dcos_dns_sup.erl custom_zones_setup/0, validate_zone_name/1, record/2.
import { describe, expect, it } from "@jest/globals";
import { customZoneNameError, customZones, customZonesSchema, validateCustomZones, type CustomZonesConfig } from "./custom.js";

const DOC: CustomZonesConfig = { "component.thisdcos.directory": [{ type: "cname", name: "registry", value: "master.dcos.thisdcos.directory" }] };

describe("custom zones", () => {
  it("builds dcos-net's documented example: registry.component.thisdcos.directory CNAME master.dcos…", () => {
    const [zone, ...rest] = customZones(DOC);
    expect(rest).toEqual([]);
    expect(zone?.origin).toBe("component.thisdcos.directory");
    expect(zone?.names.get("registry.component.thisdcos.directory")?.get("CNAME")).toEqual([
      { type: "CNAME", ttl: 5, data: "master.dcos.thisdcos.directory" },
    ]);
    expect(zone?.soa.data.mname).toBe("ns.spartan");
    expect(validateCustomZones(DOC)).toEqual([]);
    expect(customZonesSchema.safeParse(DOC).success).toBe(true);
  });

  it("labels the record name like a task name (mesos_state:label) and accepts any case of cname", () => {
    const [zone] = customZones({ "Tools.thisdcos.directory.": [{ type: "CNAME", name: "My.Registry", value: "Master.DCOS.thisdcos.directory." }] });
    expect(zone?.names.get("my-registry.tools.thisdcos.directory")?.get("CNAME")?.[0]?.data).toBe("master.dcos.thisdcos.directory");
  });

  it.each([
    ["thisdcos.directory", /must be <name>\.thisdcos\.directory/],
    ["component.example.com", /must be <name>\.thisdcos\.directory/],
    ["l4lb.thisdcos.directory", /l4lb\.thisdcos\.directory is served by dcnet itself/],
    ["mesos.thisdcos.directory", /mesos\.thisdcos\.directory is served/],
    ["dcos.thisdcos.directory", /dcos\.thisdcos\.directory is served/],
    ["x.dcos.thisdcos.directory", /dcos\.thisdcos\.directory is served/],
    ["thisnode.thisdcos.directory", /thisnode\.thisdcos\.directory is served/],
    ["dclb.thisdcos.directory", /dclb\.thisdcos\.directory is served/],
    ["a..thisdcos.directory", /empty label/],
  ])("rejects zone %s", (zone, message) => {
    expect(customZoneNameError(zone)).toMatch(message);
    const errors = validateCustomZones({ [zone]: [] });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(JSON.stringify(zone));
  });

  it("allows deeper zones under a free label, like dcos-net ([directory, thisdcos, X | _])", () => {
    expect(customZoneNameError("a.component.thisdcos.directory")).toBeUndefined();
  });

  it("names the zone and record of every bad record", () => {
    const errors = validateCustomZones({
      "component.thisdcos.directory": [
        { type: "a", name: "web", value: "10.0.0.1" },
        { type: "cname", name: "__", value: "x.example" },
        { type: "cname", name: "ok", value: "bad..target" },
        { type: "cname", name: "dup", value: "a.example" },
        { type: "cname", name: "DUP", value: "b.example" },
      ],
    });
    expect(errors).toEqual([
      'zone "component.thisdcos.directory" record 0 ("web"): type "a" is not supported (only "cname")',
      'zone "component.thisdcos.directory" record 1 ("__"): name "__" has no letter or digit',
      'zone "component.thisdcos.directory" record 2 ("ok"): empty label',
      'zone "component.thisdcos.directory" record 4 ("DUP"): dup.component.thisdcos.directory already has a CNAME (record 3)',
    ]);
  });

  it("reports two spellings of one zone", () => {
    expect(validateCustomZones({ "a.thisdcos.directory": [], "A.thisdcos.directory.": [] })).toEqual([
      'zone "A.thisdcos.directory.": same zone as "a.thisdcos.directory"',
    ]);
  });

  it("the schema carries the validator's messages and rejects unknown keys", () => {
    const r = customZonesSchema.safeParse({ "dcos.thisdcos.directory": [{ type: "cname", name: "x", value: "y.example" }] });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual(['zone "dcos.thisdcos.directory": dcos.thisdcos.directory is served by dcnet itself']);
    expect(customZonesSchema.safeParse({ "a.thisdcos.directory": [{ type: "cname", name: "x", value: "y", ttl: 5 }] }).success).toBe(false);
    expect(customZonesSchema.safeParse({ "a.thisdcos.directory": "x" }).success).toBe(false);
  });

  it("customZones skips invalid zones and records, reporting them, and builds the rest", () => {
    const problems: string[] = [];
    const zones = customZones(
      {
        "mesos.thisdcos.directory": [{ type: "cname", name: "x", value: "y.example" }],
        "ok.thisdcos.directory": [
          { type: "txt", name: "t", value: "v" },
          { type: "cname", name: "r", value: "y.example" },
        ],
      },
      { ttl: 7, onProblem: (p) => problems.push(`${p.item}: ${p.message}`) },
    );
    expect(zones.map((z) => z.origin)).toEqual(["ok.thisdcos.directory"]);
    expect(zones[0]?.names.get("r.ok.thisdcos.directory")?.get("CNAME")).toEqual([{ type: "CNAME", ttl: 7, data: "y.example" }]);
    expect(problems).toHaveLength(2);
  });
});
