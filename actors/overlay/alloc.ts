// Where a node's subnets and VTEP addresses are looked for: a start derived from the node id, then
// every candidate once, wrapping (as the named-VIP allocator walks its range). The JetStream KV
// allocator takes the first one no other node holds, so a node restarting asks the same sequence and
// gets its own back, and two nodes racing never get one value. IPv4 and IPv6 alike.
import { createHash } from "node:crypto";
import { formatIp, parseIp, type Family } from "../../config/ip.js";

export interface Cidr {
  readonly family: Family;
  readonly base: bigint;
  readonly prefix: number;
}

const bits = (f: Family): number => (f === "ip" ? 32 : 128);

export function parseCidr(text: string): Cidr | undefined {
  const [addr, len] = text.split("/");
  const ip = addr === undefined ? undefined : parseIp(addr);
  const prefix = Number(len);
  if (!ip || !Number.isInteger(prefix) || prefix < 0 || prefix > bits(ip.family)) return undefined;
  const host = BigInt(bits(ip.family) - prefix);
  return { family: ip.family, base: (ip.value >> host) << host, prefix };
}

/** IPv4 only (the overlay's v4 config keys). */
export function parseCidr4(text: string): Cidr | undefined {
  const c = parseCidr(text);
  return c?.family === "ip" ? c : undefined;
}

function start(node: string, count: bigint): bigint {
  return count <= 1n ? 0n : BigInt(`0x${createHash("sha1").update(node, "utf8").digest("hex")}`) % count;
}

/** Every `/prefix` subnet of `space` once, in probe order for `node`: `9.0.7.0/24`, `fd01:b::7:0:0:0/80`, … */
export function* subnetCandidates(node: string, space: Cidr, prefix: number): Generator<string, void, undefined> {
  if (prefix < space.prefix || prefix > bits(space.family)) return;
  const count = 1n << BigInt(prefix - space.prefix);
  const step = 1n << BigInt(bits(space.family) - prefix);
  let i = start(node, count);
  for (let n = 0n; n < count; n++) {
    yield `${formatIp(space.family, space.base + i * step)}/${prefix}`;
    i = i + 1n === count ? 0n : i + 1n;
  }
}

/** Every host address of the VTEP subnet once (IPv4 network and broadcast addresses, IPv6 `::0` left out), in probe order for `node`. */
export function* vtepCandidates(node: string, space: Cidr): Generator<string, void, undefined> {
  const size = 1n << BigInt(bits(space.family) - space.prefix);
  const skip = space.family === "ip" ? 2n : 1n;
  if (size <= skip) return;
  const count = size - skip;
  let i = start(node, count);
  for (let n = 0n; n < count; n++) {
    yield formatIp(space.family, space.base + 1n + i);
    i = i + 1n === count ? 0n : i + 1n;
  }
}

/** The VTEP's MAC: the configured prefix, then the low 24 bits of its IPv4 address (unique when the addresses are). */
export function vtepMac(prefix: string, vtepIp: string): string {
  const v = parseIp(vtepIp);
  const low = v ? Number(v.value & 0xffffffn) : 0;
  return `${prefix}:${[low >> 16, (low >> 8) & 255, low & 255].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
}

/** `subnet:agent-7` → { kind: "subnet", node: "agent-7" } for the four allocation kinds a node claims. */
export function parseAllocationName(name: string): { readonly kind: "subnet" | "subnet6" | "vtep" | "vtep6"; readonly node: string } | undefined {
  const m = /^(subnet6?|vtep6?):(.+)$/.exec(name);
  return m ? { kind: m[1] as "subnet" | "subnet6" | "vtep" | "vtep6", node: m[2] as string } : undefined;
}

/**
 * Which allocations to release now: those of nodes absent from the overlay (no `overlay/<node>` fact
 * in the store) for at least `graceMs`. `goneSince` is updated in place: a node seen again is
 * forgotten, a newly absent one starts its grace now. A node restarting this sweeper starts every
 * grace afresh: late rather than early.
 */
export function releasable(names: Iterable<string>, present: ReadonlySet<string>, goneSince: Map<string, number>, now: number, graceMs: number): string[] {
  const out: string[] = [];
  const absent = new Set<string>();
  for (const name of names) {
    const a = parseAllocationName(name);
    if (!a || present.has(a.node)) continue;
    absent.add(a.node);
    const since = goneSince.get(a.node) ?? now;
    goneSince.set(a.node, since);
    if (now - since >= graceMs) out.push(name);
  }
  for (const node of [...goneSince.keys()]) if (!absent.has(node)) goneSince.delete(node);
  return out.sort();
}
