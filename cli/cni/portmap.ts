// Bridge mode's port mappings (the `portMappings` capability) as DNAT in dcnet's own nftables table,
// `ip dcnet-portmap` — not iptables, and nothing of anyone else's touched. The mappings are data, not
// rules: two maps, (proto . host port) and (host address . proto . host port) → (container address .
// container port), read by fixed rules in prerouting (traffic from other hosts and from containers) and
// output (the host itself), both only for packets to a local address (`fib daddr type local`). A
// container that reaches a mapped port of a container of its own subnet (itself included) through the
// host is masqueraded, so the reply comes back the same way. Matched by subnet, not by interface: with
// br_netfilter (bridge-nf-call-iptables, on by default) the DNATed packet is bridged back out, and the
// hooks see the bridge's ports, not the bridge. ADD adds its elements with `create`, so a port another container
// holds fails the whole transaction (nothing half-applied); DEL deletes the elements its lease lists.
// Rendering is pure; apply/remove/list run `nft` (asynchronously, as every step of a call: run.ts).
import type { PortMapping } from "./config.js";
import { CniKernelError, CniPortConflictError } from "./errors.js";
import { firstLines, type Run } from "./run.js";

export const PORTMAP_TABLE = "dcnet-portmap";
const T = `ip ${PORTMAP_TABLE}`;

const DECLARE = [
  `add table ${T}`,
  `add map ${T} ports { type inet_proto . inet_service : ipv4_addr . inet_service; }`,
  `add map ${T} addrports { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }`,
  `add set ${T} subnets { type ipv4_addr; flags interval; }`,
];

/** The table's fixed part, rewritten whole (flush + add in one transaction) so it never drifts. */
const RULES = [
  `add chain ${T} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
  `add chain ${T} output { type nat hook output priority -100; policy accept; }`,
  `add chain ${T} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
  `flush chain ${T} prerouting`,
  `flush chain ${T} output`,
  `flush chain ${T} postrouting`,
  // A mapping for one host address wins over one for every address.
  `add rule ${T} prerouting fib daddr type local dnat to ip daddr . meta l4proto . th dport map @addrports`,
  `add rule ${T} prerouting fib daddr type local dnat to meta l4proto . th dport map @ports`,
  // Loopback is left alone: DNAT from 127.0.0.1 to a container would need route_localnet.
  `add rule ${T} output ip daddr != 127.0.0.0/8 fib daddr type local dnat to ip daddr . meta l4proto . th dport map @addrports`,
  `add rule ${T} output ip daddr != 127.0.0.0/8 fib daddr type local dnat to meta l4proto . th dport map @ports`,
  `add rule ${T} postrouting ct status dnat ip saddr @subnets ip daddr @subnets masquerade`,
];

function key(m: PortMapping): string {
  return m.hostIP ? `${m.hostIP} . ${m.protocol} . ${m.hostPort}` : `${m.protocol} . ${m.hostPort}`;
}

function mapOf(m: PortMapping): "ports" | "addrports" {
  return m.hostIP ? "addrports" : "ports";
}

/** ADD: the table, its rules, the subnet, and one element per mapping (`create`: fails if the port is taken). */
export function renderAdd(subnet: string, target: string, mappings: readonly PortMapping[]): string {
  return [
    ...DECLARE,
    ...RULES,
    `add element ${T} subnets { ${subnet} }`,
    ...mappings.map((m) => `create element ${T} ${mapOf(m)} { ${key(m)} : ${target} . ${m.containerPort} }`),
    "",
  ].join("\n");
}

/** DEL: the elements of these mappings (each must exist, else nft refuses the whole transaction). */
export function renderDelete(mappings: readonly PortMapping[]): string {
  return [...mappings.map((m) => `delete element ${T} ${mapOf(m)} { ${key(m)} }`), ""].join("\n");
}

export async function addMappings(run: Run, subnet: string, target: string, mappings: readonly PortMapping[]): Promise<void> {
  if (mappings.length === 0) return;
  const r = await run("nft", ["-f", "-"], renderAdd(subnet, target, mappings));
  if (r.code === 0) return;
  if (/File exists/.test(r.stderr)) {
    const ports = mappings.map((m) => `${m.protocol}/${m.hostPort}${m.hostIP ? ` on ${m.hostIP}` : ""}`).join(", ");
    throw new CniPortConflictError(`a host port of ${ports} is mapped to another container`, firstLines(r.stderr));
  }
  throw new CniKernelError("nft refused the port mappings", firstLines(r.stderr));
}

/**
 * Removes this container's mappings. The common case is one transaction deleting them; if that fails
 * (a DEL repeated after a crash, elements already gone), only the elements still pointing at `target`
 * are deleted, so a port another container has taken since is left alone.
 */
export async function removeMappings(run: Run, target: string, mappings: readonly PortMapping[]): Promise<void> {
  if (mappings.length === 0) return;
  if ((await run("nft", ["-f", "-"], renderDelete(mappings))).code === 0) return;
  const present = await listMappings(run);
  const ours = mappings.filter((m) => present.get(`${mapOf(m)} ${key(m)}`) === `${target} . ${m.containerPort}`);
  if (ours.length === 0) return;
  const r = await run("nft", ["-f", "-"], renderDelete(ours));
  if (r.code !== 0) throw new CniKernelError("nft could not remove the port mappings", firstLines(r.stderr));
}

/** `"<map> <key>" → "<addr> . <port>"` of both maps (empty when the table does not exist). */
export async function listMappings(run: Run): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const map of ["ports", "addrports"] as const) {
    const r = await run("nft", ["-j", "list", "map", "ip", PORTMAP_TABLE, map]);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) continue;
      throw new CniKernelError(`nft could not list ${map}`, firstLines(r.stderr));
    }
    for (const [k, v] of mapElements(r.stdout)) out.set(`${map} ${k}`, v);
  }
  return out;
}

/** Elements of an `nft -j list map` as `"tcp . 8081"` → `"9.0.7.5 . 80"`. */
export function mapElements(json: string): Array<[string, string]> {
  const doc = JSON.parse(json) as { nftables?: Array<{ map?: { elem?: unknown[] } }> };
  const elems = doc.nftables?.find((x) => x.map)?.map?.elem ?? [];
  const text = (v: unknown): string => (typeof v === "object" && v !== null && "concat" in v ? (v as { concat: unknown[] }).concat.map(String).join(" . ") : String(v));
  return elems.filter((e): e is [unknown, unknown] => Array.isArray(e) && e.length === 2).map(([k, v]) => [text(k), text(v)]);
}

/** CHECK: the mappings that are not (or not to `target`) in the table. */
export function missingMappings(present: ReadonlyMap<string, string>, target: string, mappings: readonly PortMapping[]): PortMapping[] {
  return mappings.filter((m) => present.get(`${mapOf(m)} ${key(m)}`) !== `${target} . ${m.containerPort}`);
}
