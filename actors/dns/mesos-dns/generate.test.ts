// Record-for-record parity with the upstream oracle (shared/fixtures/mesos-dns/generated/*.tsv)
// plus fuzzing: the generator must never throw, whatever the state looks like.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { generateRecords, type MesosDnsConfig } from "./generate.js";
import { oracleRecords as oracle } from "../../../testkit/dns/mesos-dns-oracle.js";

const FIXTURES = new URL("../../../../shared/fixtures/mesos-dns/", import.meta.url);
const fake: unknown = JSON.parse(readFileSync(new URL("factories/fake.json", FIXTURES), "utf8"));

/** The oracle's `TYPE NAME v1 v2…` lines, flattened to one `TYPE\tNAME\tVALUE` line per record. */

function ours(state: unknown, config: MesosDnsConfig): string[] {
  return generateRecords(state, config)
    .records.map((r) => `${r.type}\t${r.name}\t${r.value}`)
    .sort();
}

function diff(actual: string[], expected: string[]): string {
  const a = new Set(actual);
  const e = new Set(expected);
  const missing = expected.filter((x) => !a.has(x)).map((x) => `- ${x}`);
  const extra = actual.filter((x) => !e.has(x)).map((x) => `+ ${x}`);
  return [...missing, ...extra].join("\n");
}

// `no pid` has only hostname `localhost`; the oracle host resolved it to 127.0.0.1.
const resolveHost = (host: string): string[] => (host === "localhost" ? ["127.0.0.1"] : []);

const base: MesosDnsConfig = {
  domain: "mesos",
  ns: "mesos-dns.mesos.",
  listener: "127.0.0.1",
  masters: ["144.76.157.37:5050"],
  ipSources: ["netinfo", "mesos", "host"],
  enforceRFC952: false,
  resolveHost,
};
const rg = { ...base, leader: "master@144.76.157.37:5050", enforceRFC952: true };

const variants: Array<[string, MesosDnsConfig]> = [
  ["fake.json.default-rfc1123.tsv", base],
  ["fake.json.fakeDNS.tsv", { ...base, enforceRFC952: true, ipSources: ["netinfo", "docker", "mesos", "host"] }],
  ["fake.json.rg.tsv", { ...rg, ipSources: ["netinfo", "docker", "mesos", "host"] }],
  ["fake.json.rgDocker.tsv", { ...rg, ipSources: ["docker", "host"] }],
  ["fake.json.rgMesos.tsv", { ...rg, ipSources: ["mesos", "host"] }],
  ["fake.json.rgSlave.tsv", { ...rg, ipSources: ["host"] }],
  ["fake.json.rgNetinfo.tsv", { ...rg, ipSources: ["netinfo"] }],
];

describe("generateRecords parity with upstream Mesos-DNS", () => {
  it.each(variants)("%s: every record equal", (file, config) => {
    const expected = oracle(file);
    expect(expected.length).toBeGreaterThan(50);
    const actual = ours(fake, config);
    const d = diff(actual, expected);
    if (d !== "") console.log(`${file}: - missing, + extra\n${d}`);
    expect(d).toBe("");
    expect(actual).toHaveLength(expected.length);
  });
});

/** Delete a random subset of paths from a deep copy of the fixture. */
function withDeletions(doc: unknown, picks: number[]): unknown {
  const copy: unknown = structuredClone(doc);
  const nodes: Array<Record<string, unknown> | unknown[]> = [];
  const walk = (v: unknown): void => {
    if (typeof v !== "object" || v === null) return;
    nodes.push(v as Record<string, unknown> | unknown[]);
    for (const c of Object.values(v)) walk(c);
  };
  walk(copy);
  for (const pick of picks) {
    const node = nodes[pick % nodes.length];
    if (node === undefined) continue;
    const keys = Object.keys(node);
    const key = keys[Math.floor(pick / nodes.length) % Math.max(keys.length, 1)];
    if (key !== undefined) {
      if (Array.isArray(node)) node.splice(Number(key), 1);
      else delete node[key];
    }
  }
  return copy;
}

describe("generateRecords never throws", () => {
  it("on random JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (state, rfc952) => {
        const out = generateRecords(state, { ...base, enforceRFC952: rfc952 });
        expect(Array.isArray(out.records)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("on the fixture with random field deletions", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1_000_000 }), { maxLength: 20 }), (picks) => {
        const out = generateRecords(withDeletions(fake, picks), rg);
        for (const r of out.records) expect(["A", "AAAA", "SRV"]).toContain(r.type);
      }),
      { numRuns: 300 },
    );
  });

  it("on fixture-shaped values with random scalars in place of fields", () => {
    const anything = fc.oneof(fc.jsonValue(), fc.constant(undefined));
    fc.assert(
      fc.property(anything, anything, anything, (leader, pid, ports) => {
        const state = structuredClone(fake) as { leader: unknown; slaves: Array<Record<string, unknown>> };
        state.leader = leader;
        if (state.slaves[0]) state.slaves[0]["pid"] = pid;
        if (state.slaves[1]) state.slaves[1]["resources"] = { ports };
        generateRecords(state, { ...base, resolveHost: () => { throw new Error("boom"); } });
      }),
      { numRuns: 200 },
    );
  });

  it("reports a missing leader as a problem rather than failing", () => {
    const out = generateRecords({ frameworks: [], slaves: [] }, base);
    expect(out.problems.map((p) => p.item)).toContain("leader");
    expect(out.records).toEqual([{ name: "mesos-dns.mesos.", type: "A", value: "127.0.0.1" }]);
  });
});
