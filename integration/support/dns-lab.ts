// The DNS workload of ../shared/bench/dns-baselines.sh, generated here so tests and benches need
// nothing outside the repo: 1,000 tasks app-NNNN on 4 agents (A app-NNNN.marathon.mesos → 10.0.x.y),
// the first 100 with a port (SRV _app-NNNN._tcp.marathon.mesos), and the query mix 1,000 A /
// 100 SRV / 10 NXDOMAIN. As a Mesos master /master/state for dcnet (Mesos-DNS generates the names
// from it), and as unbound local-data serving the same names for the reference run.
import { benchStateText } from "../../testkit/dns/mesos-dns-oracle.js";

export const N_A = 1000;
export const N_SRV = 100;

function nmIp(i: number): { name: string; ip: string } {
  return { name: `app-${String(i).padStart(4, "0")}`, ip: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}` };
}

/** The same JSON the baseline script writes with EMIT_MESOS_STATE=1. */
export function benchMasterState(): unknown {
  return JSON.parse(benchStateText()) as unknown;
}

/** unbound local-zone/local-data for the same names (the SRV targets as in the baseline zone). */
export function benchUnboundData(): { localZones: string[]; localData: string[] } {
  const localData = ["mesos. 60 IN SOA ns1.mesos. root.ns1.mesos. 1 60 600 86400 60", "mesos. 60 IN NS ns1.mesos.", "ns1.mesos. 60 IN A 127.0.0.1"];
  for (let i = 0; i < N_A; i++) {
    const { name, ip } = nmIp(i);
    localData.push(`${name}.marathon.mesos. 60 IN A ${ip}`);
  }
  for (let i = 0; i < N_SRV; i++) {
    const { name } = nmIp(i);
    localData.push(`_${name}._tcp.marathon.mesos. 60 IN SRV 0 1 ${31000 + i} ${name}.marathon.mesos.`);
  }
  return { localZones: ['"mesos." static'], localData };
}

/** dnsperf's input: every A name once, an SRV query after every 10th, an NXDOMAIN after every 100th. */
export function benchQueries(): string {
  const out: string[] = [];
  for (let i = 0; i < N_A; i++) {
    out.push(`${nmIp(i).name}.marathon.mesos A`);
    if (i % 10 === 0) out.push(`_${nmIp(i / 10).name}._tcp.marathon.mesos SRV`);
    if (i % 100 === 0) out.push(`missing-${i / 100}.marathon.mesos A`);
  }
  return `${out.join("\n")}\n`;
}

/** A SUBSCRIBED event with no agents and no tasks: enough for the operator listener to lead. */
export const EMPTY_SUBSCRIBED = JSON.stringify({ type: "SUBSCRIBED", subscribed: { get_state: { get_tasks: {}, get_executors: {}, get_frameworks: {}, get_agents: {} }, heartbeat_interval_seconds: 15 } });
