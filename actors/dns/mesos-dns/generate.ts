// Pure Mesos-DNS record generator: upstream `RecordGenerator.InsertState` as a function of
// (state, config). Host-name resolution is injected so the module does no I/O.
import { joinHostPort, parseIp, splitHostPort, type ParsedIp } from "./ip.js";
import { mesosDnsDomainFrag, rfc1123, rfc952, type LabelFn } from "./labels.js";
import { RecordSet, type DnsRecord } from "./recordset.js";
import { readState, type MesosDnsState, type MesosDnsProblem } from "./state.js";
import { taskRecords } from "./tasks.js";

export type { DnsRecord } from "./recordset.js";

export interface MesosDnsConfig {
  /** Mesos domain, already lower-cased and validated (e.g. `mesos`). */
  domain: string;
  /** Name of the self record (upstream passes SOAMname, e.g. `mesos-dns.mesos.`). */
  ns: string;
  /** Listener address; `0.0.0.0` means "every entry of `localAddresses`". */
  listener: string;
  localAddresses?: readonly string[];
  /** Configured or ZK-detected masters, `ip:port`, in order. */
  masters: readonly string[];
  /** Overrides `state.leader` (`master@ip:port`) when set, as upstream's tests do. */
  leader?: string;
  /** In order; the runtime default is netinfo, mesos, host. */
  ipSources: readonly string[];
  /** true → RFC 952 labels (24 chars, no leading digit); false → RFC 1123 (the default). */
  enforceRFC952: boolean;
  /** Host-name lookup for non-IP hosts (framework hostnames, agent PIDs); none → unresolved. */
  resolveHost?: (host: string) => readonly string[];
}

interface GenerateResult {
  records: DnsRecord[];
  problems: MesosDnsProblem[];
}

interface Ctx {
  rs: RecordSet;
  problems: MesosDnsProblem[];
  config: MesosDnsConfig;
  spec: LabelFn;
  tail: string;
}

/** Upstream hostToIPs: a literal IP, else the resolver's answers (none on failure). */
function hostToIps(ctx: Ctx, host: string): ParsedIp[] {
  const literal = parseIp(host);
  if (literal !== undefined) return [literal];
  let answers: readonly string[] = [];
  try {
    answers = ctx.config.resolveHost?.(host) ?? [];
  } catch (err) {
    ctx.problems.push({ item: `host ${host}`, message: `resolver failed: ${String(err)}` });
  }
  const ips = (Array.isArray(answers) ? answers : []).map((a) => parseIp(String(a))).filter((ip) => ip !== undefined);
  if (ips.length === 0) ctx.problems.push({ item: `host ${host}`, message: "cannot translate into an IP address" });
  return ips;
}

/** Agent id → IP strings; an unresolvable host is kept as its DomainFrag (upstream #509). */
function agentIpMap(ctx: Ctx, state: MesosDnsState): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const slave of state.slaves) {
    if (slave.pid === undefined) continue;
    const ips = hostToIps(ctx, slave.pid.host).map((ip) => ip.text);
    map.set(slave.id, ips.length > 0 ? ips : [mesosDnsDomainFrag(slave.pid.host, ctx.spec)]);
  }
  return map;
}

function frameworkRecords(ctx: Ctx, state: MesosDnsState): void {
  for (const fw of state.frameworks) {
    const a = `${mesosDnsDomainFrag(fw.name, ctx.spec)}${ctx.tail}`;
    // Without a PID upstream falls back to the `hostname` field and emits no SRV.
    const host = fw.pid?.host ?? fw.hostname;
    for (const ip of hostToIps(ctx, host)) ctx.rs.addIp(a, ip);
    if (fw.pid !== undefined && fw.pid.port !== "") {
      ctx.rs.add(`_framework._tcp.${a}`, "SRV", joinHostPort(a, fw.pid.port));
    }
  }
}

function slaveRecords(ctx: Ctx, state: MesosDnsState): void {
  const a = `slave${ctx.tail}`;
  for (const slave of state.slaves) {
    if (slave.pid === undefined) continue;
    for (const ip of hostToIps(ctx, slave.pid.host)) ctx.rs.addIp(a, ip);
    ctx.rs.add(`_slave._tcp${ctx.tail}`, "SRV", joinHostPort(a, slave.pid.port));
  }
}

function listenerRecord(ctx: Ctx): void {
  const { listener, localAddresses, ns } = ctx.config;
  const addrs = listener === "0.0.0.0" ? (localAddresses ?? []) : [listener];
  for (const addr of addrs) {
    const ip = parseIp(addr);
    if (ip === undefined) ctx.problems.push({ item: "listener", message: `not an IP: ${addr}` });
    else ctx.rs.addIp(ns, ip);
  }
}

/** `master@ip:port` → address text and parsed parts; undefined means no master records. */
function parseLeader(leader: string): { address: string; host: string; port: string } | undefined {
  const parts = leader.split("@");
  const address = parts[1];
  if (parts.length < 2 || address === undefined) return undefined;
  const hp = splitHostPort(address);
  return hp === undefined ? undefined : { address, ...hp };
}

function leaderRecords(ctx: Ctx, host: string, port: string): ParsedIp[] {
  const ips = hostToIps(ctx, host);
  for (const ip of ips) {
    ctx.rs.addIp(`leader${ctx.tail}`, ip);
    ctx.rs.addIp(`master${ctx.tail}`, ip);
  }
  const target = joinHostPort(`leader${ctx.tail}`, port);
  ctx.rs.add(`_leader._tcp${ctx.tail}`, "SRV", target);
  ctx.rs.add(`_leader._udp${ctx.tail}`, "SRV", target);
  return ips;
}

/**
 * Upstream masterRecord: `master.D.` = leader ∪ masters; `masterN.D.` numbered in list order
 * skipping duplicates; a leader missing from the list gets the next index.
 */
function masterRecords(ctx: Ctx, state: MesosDnsState): void {
  const leader = parseLeader(ctx.config.leader ?? state.leader);
  if (leader === undefined) {
    ctx.problems.push({ item: "leader", message: "malformed or missing leader; no master records" });
    return;
  }
  const leaderIps = leaderRecords(ctx, leader.host, leader.port);
  let leaderNumbered = false;
  let idx = 0;
  for (const master of ctx.config.masters) {
    const hp = splitHostPort(master);
    const ip = hp === undefined ? undefined : parseIp(hp.host);
    if (ip === undefined) continue;
    const isLeader = master === leader.address;
    if (!isLeader && !ctx.rs.addIp(`master${ctx.tail}`, ip)) continue;
    if (isLeader && leaderNumbered) continue;
    ctx.rs.addIp(`master${idx}${ctx.tail}`, ip);
    if (isLeader) leaderNumbered = true;
    idx++;
  }
  if (!leaderNumbered) for (const ip of leaderIps) ctx.rs.addIp(`master${idx}${ctx.tail}`, ip);
}

function generateUnsafe(state: unknown, config: MesosDnsConfig, problems: MesosDnsProblem[]): DnsRecord[] {
  const spec = config.enforceRFC952 ? rfc952 : rfc1123;
  const ctx: Ctx = { rs: new RecordSet(), problems, config, spec, tail: `.${config.domain}.` };
  const st = readState(state, problems);
  const agentIps = agentIpMap(ctx, st);
  frameworkRecords(ctx, st);
  slaveRecords(ctx, st);
  listenerRecord(ctx);
  masterRecords(ctx, st);
  const inputs = { domain: config.domain, spec, ipSources: config.ipSources, agentIps };
  for (const fw of st.frameworks) for (const task of fw.tasks) taskRecords(ctx.rs, fw, task, inputs);
  return ctx.rs.toArray();
}

/**
 * Every A/AAAA/SRV record Mesos-DNS would serve for `state` under `config`. Never throws:
 * malformed parts of the state are skipped and reported in `problems`.
 */
export function generateRecords(state: unknown, config: MesosDnsConfig): GenerateResult {
  const problems: MesosDnsProblem[] = [];
  try {
    return { records: generateUnsafe(state, config, problems), problems };
  } catch (err) {
    // Defensive only: the readers are total, but a border function must not throw.
    problems.push({ item: "generator", message: `internal error: ${String(err)}` });
    return { records: [], problems };
  }
}
