// Runs INSIDE a network namespace (`ip netns exec <ns> node --import tsx <this file>`), started by
// integration/l4lb-libnft.test.ts: the in-process nftables backend (libnftables through koffi)
// programs the namespace the process is in, and a jest worker cannot move one thread into a
// namespace. Every step is checked against the nft binary run in the same namespace. Prints one JSON
// line of observations for the test to judge; refuses to start outside the namespace it is named.
//   ip netns exec <ns> node --import tsx integration/support/l4lb-libnft-check.ts <ns> [vips]
import { statSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { L4LB_TABLE, type DesiredState, type Family } from "../../actors/l4lb/model.js";
import { compareKernel, desiredState, nftApply, nftListTable, parseKernel, renderDelta, renderFull, type ObservedKernel, type RenderOptions } from "../../actors/l4lb/index.js";
import { benchTable, replaceBackend, type VipTable } from "../../bench/l4lb/gen.js";

const OPTS: RenderOptions = { table: L4LB_TABLE, selection: "random", maxBackends: 8 };
const LIB = { backend: "lib" } as const;
const CLI = { backend: "cli" } as const;
const FAMILIES: readonly Family[] = ["ip", "ip6"];
const NETNS = process.argv[2] ?? "";
const BIG_VIPS = Math.min(Number(process.argv[3] ?? 10_000), 65_536);

// Never the root namespace: the process must be inside the named one (same namespace inode).
if (!/^[-\w]+$/.test(NETNS) || statSync(`/run/netns/${NETNS}`).ino !== statSync("/proc/self/ns/net").ino) {
  console.error(`l4lb-libnft-check: not inside network namespace ${JSON.stringify(NETNS)}; refusing to program nft`);
  process.exit(2);
}

function desiredOf(table: VipTable): DesiredState {
  return desiredState({ table, addresses: new Map(), deadNodes: new Set(), localIps: new Set(), forbidden: [], maxBackends: OPTS.maxBackends, ipv6: true }).state;
}

/** Both families' listings as each backend prints them. */
async function listings(opts: typeof LIB | typeof CLI): Promise<Partial<Record<Family, unknown>>> {
  const out: Partial<Record<Family, unknown>> = {};
  for (const f of FAMILIES) {
    const json = await nftListTable(f, L4LB_TABLE, { ...opts, timeoutMs: 60_000 });
    if (json !== undefined) out[f] = json;
  }
  return out;
}

function observed(json: Partial<Record<Family, unknown>>): Partial<Record<Family, ObservedKernel>> {
  const out: Partial<Record<Family, ObservedKernel>> = {};
  for (const f of FAMILIES) {
    if (json[f] === undefined) continue;
    const k = parseKernel(json[f]);
    if ("problem" in k) throw new Error(`${f}: ${k.problem}`);
    out[f] = k;
  }
  return out;
}

/** The kernel read back both ways: drift against `desired` (from the binary's listing), and whether the two listings agree. */
async function check(desired: DesiredState): Promise<{ drift: number; sameJson: boolean; sameParsed: boolean; elements: number }> {
  const viaCli = await listings(CLI);
  const viaLib = await listings(LIB);
  const cli = observed(viaCli);
  const lib = observed(viaLib);
  return {
    drift: compareKernel(cli, desired, OPTS).drift,
    sameJson: isDeepStrictEqual(viaCli, viaLib),
    sameParsed: isDeepStrictEqual(cli, lib),
    elements: (cli.ip?.elements.length ?? 0) + (cli.ip6?.elements.length ?? 0),
  };
}

const result: Record<string, unknown> = {};

// 1. A full load of a few VIPs.
const small = benchTable({ vips: 4, backends: 2, owner: "n1" });
const a = desiredOf(small);
await nftApply(renderFull(a, OPTS), LIB);
result["full"] = await check(a);

// 2. A delta: one backend replaced.
const rep = replaceBackend(small, 1, 0, 0);
const b = desiredOf(rep.table);
await nftApply(renderDelta(a, b, OPTS).text, LIB);
result["delta"] = await check(b);

// 3. A refused transaction: a valid element, then one that jumps to a chain that does not exist.
// The binary is handed the same text: both must refuse it with the same words.
const bad = `add element ip ${L4LB_TABLE} vips { 11.100.9.9 . tcp . 80 : goto nb-1 }\nadd element ip ${L4LB_TABLE} vips { 11.100.9.10 . tcp . 80 : goto nb-99 }\n`;
type Refusal = { name?: string; code?: string; exitCode?: number; message?: string; stderr?: string } | undefined;
const refusal = (e: unknown): Refusal => e as Refusal;
const before = await listings(CLI);
const refused = await nftApply(bad, LIB).then(() => undefined, refusal);
const unchanged = isDeepStrictEqual(before, await listings(CLI));
const refusedCli = await nftApply(bad, CLI).then(() => undefined, refusal);
result["refused"] = { name: refused?.name, code: refused?.code, exitCode: refused?.exitCode, message: refused?.message, stderr: refused?.stderr, unchanged, cliStderr: refusedCli?.stderr };
// …and the context still works after a refusal.
await nftApply(renderDelta(b, a, OPTS).text, LIB);
result["afterRefusal"] = await check(a);

// 4. An absent table reads back as absent.
result["missing"] = { lib: String(await nftListTable("ip", "dcnet-absent", LIB)), cli: String(await nftListTable("ip", "dcnet-absent", CLI)) };

// 5. A big full load while the event loop keeps a timer: its longest gap, next to the load's duration.
const big = desiredOf(benchTable({ vips: BIG_VIPS, backends: 3, owner: "n1" }));
const text = renderFull(big, OPTS);
let last = performance.now();
let maxGap = 0;
let ticks = 0;
const timer = setInterval(() => {
  const t = performance.now();
  maxGap = Math.max(maxGap, t - last);
  last = t;
  ticks++;
}, 2);
const t0 = performance.now();
last = t0;
await nftApply(text, { ...LIB, timeoutMs: 60_000 });
const loadMs = performance.now() - t0;
maxGap = Math.max(maxGap, performance.now() - last);
clearInterval(timer);
result["big"] = { vips: BIG_VIPS, bytes: text.length, loadMs, maxGapMs: maxGap, ticks, ...(await check(big)) };

console.log(JSON.stringify(result));
