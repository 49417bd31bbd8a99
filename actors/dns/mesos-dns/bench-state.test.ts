// Scale oracle: the synthetic 1,000-task state of shared/bench/dns-baselines.sh
// (EMIT_MESOS_STATE=1), rebuilt here byte-for-byte — the sha256 check proves it is the state
// the oracle generated/bench-state.default-rfc1123.tsv was produced from.
import { describe, expect, it } from "@jest/globals";
import { createHash } from "node:crypto";
import { generateRecords } from "./generate.js";
import { benchStateText, oracleRecords } from "../../../testkit/dns/mesos-dns-oracle.js";

const STATE_SHA256 = "c898747c9523431eb2bcb1832f2ceb2add34b950f63f2fc41e754c1609a861f7";


describe("bench-state scale oracle", () => {
  it("rebuilds the exact state document", () => {
    expect(createHash("sha256").update(benchStateText()).digest("hex")).toBe(STATE_SHA256);
  });

  it("generates every record of bench-state.default-rfc1123.tsv", () => {
    const { records, problems } = generateRecords(JSON.parse(benchStateText()) as unknown, {
      domain: "mesos",
      ns: "mesos-dns.mesos.",
      listener: "127.0.0.1",
      masters: ["127.0.0.1:15050"],
      ipSources: ["netinfo", "mesos", "host"],
      enforceRFC952: false,
    });
    const actual = records.map((r) => `${r.type}\t${r.name}\t${r.value}`).sort();
    const expected = oracleRecords("bench-state.default-rfc1123.tsv");
    const have = new Set(actual);
    const want = new Set(expected);
    const d = [...expected.filter((x) => !have.has(x)).map((x) => `- ${x}`), ...actual.filter((x) => !want.has(x)).map((x) => `+ ${x}`)];
    if (d.length > 0) console.log(`bench-state: - missing, + extra\n${d.slice(0, 50).join("\n")}`);
    expect(d).toEqual([]);
    expect(actual).toHaveLength(expected.length);
    expect(new Set(records.map((r) => r.name)).size).toBe(4410);
    expect(problems).toEqual([]);
  });
});
