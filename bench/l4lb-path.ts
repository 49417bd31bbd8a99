// bench/l4lb-path: what a VIP costs on the data path. From a container on h1 to a backend container
// on h2 of the L4LB lab (integration/support/l4lb-lab.ts: network namespaces, plain routing on the
// underlay), through the VIP and straight to the backend, interleaved: new TCP connections per
// second (ab, no keep-alive) and TCP throughput (iperf3). Each round runs each side 4 times, in the
// order direct VIP VIP direct VIP direct direct VIP, so a run's position (and a drift of the
// machine's load across the round) weighs on both sides alike: with one side first and last in a
// round of 4 (direct VIP VIP direct), the middle runs came out 20–40 % faster here, round after
// round, whichever side they were. Per round: each side's mean and their ratio; the figures are
// medians over the rounds, and the ratio VIP/direct is the median of the per-round ratios (target
// >= 0.95, dataplane.md §5). Both sides must give the same answers: the same HTTP body (backend
// name and the client address it saw: the VIP keeps the source), no failed request, and iperf3's
// server on the backend's own address; otherwise the exit code is 1.
//
// Modes (printed first and last):
//   default       3 `dcnet node`s (bin/dcnet.js: `npm run build` first) with l4lb.enabled; the backend
//                 is registered as a native task whose ports carry the VIP labels 11.0.0.10:80 and
//                 11.0.0.10:5201, so dcnet itself programs the VIP on every node.
//   --rules-only  no dcnet: a table equivalent to layout D (vmap → chain nb-N → backend map,
//                 dataplane.md §3–4) loaded by hand on h1, for the bench's own mechanics.
//   npx tsx bench/l4lb-path.ts [--rules-only] [--rounds 5] [--ab-n 5000] [--ab-c 16] [--iperf-s 2] [--settle-ms 500]
// Needs root, nft, ab (apache2-utils), iperf3, nats-server; conntrack (optional: flushed per run).
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { L4LB_TABLE } from "../actors/l4lb/model.js";
import { startL4lbLab, type L4lbLab } from "../integration/support/l4lb-lab.js";
import { arg } from "./stats.js";
import { iperfTcp, type IperfRun } from "./iperf.js";

const RULES_ONLY = process.argv.includes("--rules-only");
const ROUNDS = arg("--rounds", 5);
const AB_N = arg("--ab-n", 5000);
const AB_C = arg("--ab-c", 16);
const IPERF_S = arg("--iperf-s", 2);
const SETTLE_MS = arg("--settle-ms", 500);
const VIP = "11.0.0.10";
const HTTP_PORT = 80;
const IPERF_PORT = 5201;
const CLIENT = "h1c1";
const PROBE = fileURLToPath(new URL("../integration/harness/probe.mjs", import.meta.url));
const MODE = RULES_ONLY
  ? "rules-only (a hand-loaded layout-D table on h1; no dcnet)"
  : "dcnet (3 `dcnet node`s with l4lb.enabled; the VIP comes from a registered task's labels and is programmed by dcnet)";

interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/**
 * Layout D of dataplane.md §4 for a few VIPs: one vmap (vip . proto . port) → goto nb-N, one map
 * (vip . proto . port . index) → backend, 64 fixed chains that pick `numgen random mod N`. One
 * transaction that replaces the table.
 */
export function layoutD(table: string, vips: ReadonlyArray<{ readonly vip: string; readonly port: number; readonly backends: readonly Endpoint[] }>): string {
  const vmap = vips.map((v) => `${v.vip} . tcp . ${v.port} : goto nb-${v.backends.length}`);
  const be = vips.flatMap((v) => v.backends.map((b, i) => `${v.vip} . tcp . ${v.port} . ${i} : ${b.ip} . ${b.port}`));
  const hook = "ip daddr . meta l4proto . th dport vmap @vips";
  return [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    `  map vips { type ipv4_addr . inet_proto . inet_service : verdict; elements = { ${vmap.join(", ")} }; }`,
    // `typeof … numgen` for the key: nft 1.0.6 segfaults listing a map declared with jhash (dataplane.md §3).
    `  map be { typeof ip daddr . meta l4proto . th dport . numgen random mod 16 : ip daddr . th dport; elements = { ${be.join(", ")} }; }`,
    ...Array.from({ length: 64 }, (_, k) => `  chain nb-${k + 1} { meta l4proto { tcp, udp } dnat ip to ip daddr . meta l4proto . th dport . numgen random mod ${k + 1} map @be; }`),
    // -100: nft 1.0.6 rejects `priority dstnat` on the output hook.
    `  chain prerouting { type nat hook prerouting priority -100; policy accept; ${hook}; }`,
    `  chain output { type nat hook output priority -100; policy accept; ${hook}; }`,
    `}`,
    "",
  ].join("\n");
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");

async function body(lab: L4lbLab, url: string): Promise<string> {
  const r = await lab.exec(CLIENT, process.execPath, [PROBE, url], { timeoutMs: 10_000 });
  const got = (JSON.parse(r.stdout || "{}") as Record<string, string>)[url];
  return got ?? `ERR ${r.stderr.trim()}`;
}

/**
 * Every run starts from the same state: conntrack flushed on both hosts (entries of finished
 * connections would pile up over the rounds, 120 s in TIME_WAIT), then a short pause.
 */
async function settle(lab: L4lbLab): Promise<void> {
  await Promise.all(["h1", "h2"].map((h) => lab.exec(h, "conntrack", ["-F"], { timeoutMs: 10_000 }).catch(() => undefined)));
  await new Promise((r) => setTimeout(r, SETTLE_MS));
}

interface AbRun {
  readonly rps: number;
  readonly complete: number;
  readonly failed: number;
  readonly docLength: number;
}

async function ab(lab: L4lbLab, ip: string): Promise<AbRun> {
  await settle(lab);
  // -s: per-request socket timeout; -n bounds the run in count, the exec timeout in time.
  const r = await lab.exec(CLIENT, "ab", ["-q", "-n", String(AB_N), "-c", String(AB_C), "-s", "5", `http://${ip}:${HTTP_PORT}/`], { timeoutMs: 120_000 });
  const num = (re: RegExp): number => Number(re.exec(r.stdout)?.[1] ?? Number.NaN);
  const run = { rps: num(/Requests per second:\s+([\d.]+)/), complete: num(/Complete requests:\s+(\d+)/), failed: num(/Failed requests:\s+(\d+)/), docLength: num(/Document Length:\s+(\d+)/) };
  if (r.code !== 0 || !Number.isFinite(run.rps)) throw new Error(`ab to ${ip} exited ${r.code}: ${r.stderr.trim() || r.stdout.slice(-500)}`);
  return run;
}

async function iperf(lab: L4lbLab, ip: string): Promise<IperfRun> {
  await settle(lab);
  return iperfTcp((args, timeoutMs) => lab.exec(CLIENT, "iperf3", args, { timeoutMs }), ip, IPERF_PORT, IPERF_S);
}

// The lab's node config has l4lb.enabled (and reconcileMs 1000) already.
const lab = await startL4lbLab({ hosts: 3, containersPerHost: 1 });
try {
  console.log(`# mode: ${MODE}`);
  const be = await lab.backend("h2", 1, { name: "be-h2c1", httpPort: HTTP_PORT });
  lab.run(be.place, "iperf3", ["-s", "-p", String(IPERF_PORT)]);
  const direct = be.ip4;
  const t0 = Date.now();
  if (RULES_ONLY) {
    await lab.nft("h1", [], { input: layoutD(L4LB_TABLE, [HTTP_PORT, IPERF_PORT].map((port) => ({ vip: VIP, port, backends: [{ ip: direct, port }] }))) });
  } else {
    await lab.startNodes();
    const task = be.task({ id: "bench-backend", http: [`${VIP}:${HTTP_PORT}`] });
    await lab.registerTask("h2", { ...task, ports: [...task.ports, { name: "iperf", protocol: "tcp", port: IPERF_PORT, vips: [`${VIP}:${IPERF_PORT}`] }] });
  }
  // The VIP is ready when the client gets the backend's answer through it, the same as direct.
  const want = await body(lab, `http://${direct}:${HTTP_PORT}/`);
  let viaVip = "";
  const deadline = Date.now() + 60_000;
  while ((viaVip = await body(lab, `http://${VIP}:${HTTP_PORT}/`)) !== want) {
    if (Date.now() > deadline) throw new Error(`the VIP does not answer like the backend within 60 s: direct ${JSON.stringify(want)}, VIP ${JSON.stringify(viaVip)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const programmed = (await lab.nft("h1", ["list", "table", "ip", L4LB_TABLE])).split("\n").filter((l) => l.includes(VIP)).length;
  // Coarse: each poll is a fresh node process (0.1–0.8 s here).
  console.log(`# VIP ${VIP} answers on ${CLIENT} within ${Date.now() - t0} ms after ${RULES_ONLY ? "the table load" : "the task registration"}; h1's table ip ${L4LB_TABLE}: ${programmed} line(s) naming it`);
  console.log(`# ${CLIENT} (${lab.ip(CLIENT)}) -> ${be.place} (${direct}) over plain routing; ${ROUNDS} rounds of 8 runs per figure (direct VIP VIP direct VIP direct direct VIP); ab -n ${AB_N} -c ${AB_C} (no keep-alive, single-threaded node backend); iperf3 -t ${IPERF_S}; conntrack flushed and ${SETTLE_MS} ms pause before each run; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  const targets = { direct, vip: VIP } as const;
  type Side = keyof typeof targets;
  const abRuns: Record<Side, AbRun[]> = { direct: [], vip: [] };
  const ipRuns: Record<Side, IperfRun[]> = { direct: [], vip: [] };
  // Per side, per round: the mean of its four runs.
  const rpsRounds: Record<Side, number[]> = { direct: [], vip: [] };
  const gbpsRounds: Record<Side, number[]> = { direct: [], vip: [] };
  const mean = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
  for (let r = 0; r < ROUNDS; r++) {
    const order: Side[] = ["direct", "vip", "vip", "direct", "vip", "direct", "direct", "vip"];
    const abRound: Record<Side, number[]> = { direct: [], vip: [] };
    for (const side of order) {
      const run = await ab(lab, targets[side]);
      abRuns[side].push(run);
      abRound[side].push(run.rps);
    }
    const ipRound: Record<Side, number[]> = { direct: [], vip: [] };
    for (const side of order) {
      const run = await iperf(lab, targets[side]);
      ipRuns[side].push(run);
      ipRound[side].push(run.gbps);
    }
    for (const side of ["direct", "vip"] as const) {
      rpsRounds[side].push(mean(abRound[side]));
      gbpsRounds[side].push(mean(ipRound[side]));
    }
  }

  const rps = (s: Side): number[] => rpsRounds[s];
  const gbps = (s: Side): number[] => gbpsRounds[s];
  const perRound = (f: (s: Side) => number[]): number => median(f("vip").map((v, i) => v / (f("direct")[i] as number)));
  for (const side of ["direct", "vip"] as const) {
    console.log(`${side.padEnd(8)} conn/s=${fmt(median(rps(side)))} (rounds: ${rps(side).map((x) => fmt(x)).join(" ")})  Gbit/s=${fmt(median(gbps(side)), 2)} (rounds: ${gbps(side).map((x) => fmt(x, 2)).join(" ")})  -> ${targets[side]}`);
  }
  const ratios = (f: (s: Side) => number[]): string => f("vip").map((v, i) => (v / (f("direct")[i] as number)).toFixed(2)).join(" ");
  console.log(`rounds   vip/direct conn/s: ${ratios(rps)}   Gbit/s: ${ratios(gbps)}`);
  const failed = (s: Side): number => abRuns[s].reduce((a, x) => a + x.failed + (AB_N - x.complete), 0);
  const lengths = new Set([...abRuns.direct, ...abRuns.vip].map((x) => x.docLength));
  const servers = new Set([...ipRuns.direct, ...ipRuns.vip].map((x) => x.serverLocal));
  const same = viaVip === want && failed("direct") === 0 && failed("vip") === 0 && lengths.size === 1 && servers.size === 1 && servers.has(direct);
  console.log(`answers  ${same ? "same on both sides" : "DIFFER"}: HTTP body ${JSON.stringify(want)} direct, ${JSON.stringify(viaVip)} via the VIP; ab failed or missing requests ${failed("direct")} direct / ${failed("vip")} VIP; document length ${[...lengths].join("/")} bytes; iperf3 server reached on ${[...servers].join(", ")}`);
  // The figure is the median of the per-round ratios: the runs of a round share the machine's load
  // of the moment, which here swings a side by 2× between rounds (admin-rtt.ts does the same).
  const ratioOfMedians = (f: (s: Side) => number[]): string => (median(f("vip")) / median(f("direct"))).toFixed(3);
  console.log(`ratio    vip/direct conn/s = ${perRound(rps).toFixed(3)} (median of per-round ratios; ratio of the medians ${ratioOfMedians(rps)})   (target >= 0.95)`);
  console.log(`ratio    vip/direct Gbit/s = ${perRound(gbps).toFixed(3)} (median of per-round ratios; ratio of the medians ${ratioOfMedians(gbps)})   (target >= 0.95)`);
  console.log(`# mode: ${RULES_ONLY ? "rules-only" : "dcnet"}`);
  if (!same) process.exitCode = 1;
} finally {
  await lab.cleanup();
}
