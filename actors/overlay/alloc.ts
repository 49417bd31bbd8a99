// Where a node's subnet and VTEP address are looked for: a start derived from the node id, then
// every candidate once, wrapping (as the named-VIP allocator walks its range). The JetStream KV
// allocator takes the first one no other node holds, so a node restarting asks the same sequence and
// gets its own back, and two nodes racing never get one value.
import { createHash } from "node:crypto";
import { formatIp, parseIp } from "../../config/ip.js";

export interface Cidr4 {
  readonly base: bigint;
  readonly prefix: number;
}

export function parseCidr4(text: string): Cidr4 | undefined {
  const [addr, len] = text.split("/");
  const ip = addr === undefined ? undefined : parseIp(addr);
  const prefix = Number(len);
  if (!ip || ip.family !== "ip" || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(32 - prefix);
  return { base: ip.value & mask, prefix };
}

function start(node: string, count: bigint): bigint {
  return count <= 1n ? 0n : BigInt(`0x${createHash("sha1").update(node, "utf8").digest("hex")}`) % count;
}

/** Every `/prefix` subnet of `space` once, in probe order for `node`: `9.0.7.0/24`, … */
export function* subnetCandidates(node: string, space: Cidr4, prefix: number): Generator<string, void, undefined> {
  if (prefix < space.prefix || prefix > 32) return;
  const count = 1n << BigInt(prefix - space.prefix);
  const step = 1n << BigInt(32 - prefix);
  let i = start(node, count);
  for (let n = 0n; n < count; n++) {
    yield `${formatIp("ip", space.base + i * step)}/${prefix}`;
    i = i + 1n === count ? 0n : i + 1n;
  }
}

/** Every host address of the VTEP subnet once (network and broadcast addresses left out), in probe order for `node`. */
export function* vtepCandidates(node: string, space: Cidr4): Generator<string, void, undefined> {
  const size = 1n << BigInt(32 - space.prefix);
  if (size < 4n) return;
  const count = size - 2n;
  let i = start(node, count);
  for (let n = 0n; n < count; n++) {
    yield formatIp("ip", space.base + 1n + i);
    i = i + 1n === count ? 0n : i + 1n;
  }
}

/** The VTEP's MAC: the configured prefix, then the low 24 bits of its address (unique when the addresses are). */
export function vtepMac(prefix: string, vtepIp: string): string {
  const v = parseIp(vtepIp);
  const low = v ? Number(v.value & 0xffffffn) : 0;
  return `${prefix}:${[low >> 16, (low >> 8) & 255, low & 255].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
}
