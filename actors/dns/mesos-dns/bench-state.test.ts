// Scale oracle: the synthetic 1,000-task state of shared/bench/dns-baselines.sh
// (EMIT_MESOS_STATE=1), rebuilt here byte-for-byte — the sha256 check proves it is the state
// the oracle generated/bench-state.default-rfc1123.tsv was produced from.
import { describe, expect, it } from "@jest/globals";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { generateRecords } from "./generate.js";

const FIXTURES = new URL("../../../../shared/fixtures/mesos-dns/", import.meta.url);
const STATE_SHA256 = "c898747c9523431eb2bcb1832f2ceb2add34b950f63f2fc41e754c1609a861f7";

/** Same text as the script's printf loop (N_A=1000 tasks, the first N_SRV=100 with a port). */
function benchState(): string {
  const slaves = [0, 1, 2, 3].map(
    (s) => `{"id":"S-${s}","hostname":"10.9.0.${s + 1}","pid":"slave(1)@10.9.0.${s + 1}:5051"}`,
  );
  const tasks: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const nm = `app-${String(i).padStart(4, "0")}`;
    const ip = `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const ports = i < 100 ? `[${31000 + i}-${31000 + i}]` : "";
    tasks.push(
      `{"id":"${nm}.${String(i).padStart(8, "0")}","name":"${nm}","slave_id":"S-${i % 4}","state":"TASK_RUNNING",` +
        `"resources":{"ports":"${ports}"},"statuses":[{"state":"TASK_RUNNING","timestamp":1,` +
        `"container_status":{"network_infos":[{"ip_addresses":[{"ip_address":"${ip}"}]}]}}]}`,
    );
  }
  return (
    `{"leader":"master@127.0.0.1:15050","slaves":[${slaves.join(",")}],` +
    `"frameworks":[{"name":"marathon","pid":"scheduler(1)@10.9.0.1:25501","hostname":"10.9.0.1","tasks":[${tasks.join(",")}]}]}\n`
  );
}

function oracle(): string[] {
  const text = readFileSync(new URL("generated/bench-state.default-rfc1123.tsv", FIXTURES), "utf8");
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .flatMap((l) => {
      const [type, name, values] = l.split("\t");
      return (values ?? "").split(" ").map((v) => `${type}\t${name}\t${v}`);
    })
    .sort();
}

describe("bench-state scale oracle", () => {
  it("rebuilds the exact state document", () => {
    expect(createHash("sha256").update(benchState()).digest("hex")).toBe(STATE_SHA256);
  });

  it("generates every record of bench-state.default-rfc1123.tsv", () => {
    const { records, problems } = generateRecords(JSON.parse(benchState()) as unknown, {
      domain: "mesos",
      ns: "mesos-dns.mesos.",
      listener: "127.0.0.1",
      masters: ["127.0.0.1:15050"],
      ipSources: ["netinfo", "mesos", "host"],
      enforceRFC952: false,
    });
    const actual = records.map((r) => `${r.type}\t${r.name}\t${r.value}`).sort();
    const expected = oracle();
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
