// The upstream Mesos-DNS record sets (shared/fixtures/mesos-dns/generated/*.tsv, lines
// `TYPE<tab>NAME<tab>v1 v2 …`) as one sorted `TYPE<tab>NAME<tab>VALUE` string per record, the form
// the tests compare generated records in.
import { readFileSync } from "node:fs";

const MESOS_DNS_FIXTURES = new URL("../../../shared/fixtures/mesos-dns/", import.meta.url);

export function oracleRecords(file: string): string[] {
  return readFileSync(new URL(`generated/${file}`, MESOS_DNS_FIXTURES), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .flatMap((l) => {
      const [type, name, values] = l.split("\t");
      return (values ?? "").split(" ").map((v) => `${type}\t${name}\t${v}`);
    })
    .sort();
}

/**
 * The Mesos master state ../shared/bench/dns-baselines.sh writes with EMIT_MESOS_STATE=1, the same
 * text as the script's printf loop (1,000 tasks on 4 agents, the first 100 with a port): the input
 * of bench-state.default-rfc1123.tsv, and of bench/dns-qps.
 */
export function benchStateText(): string {
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
