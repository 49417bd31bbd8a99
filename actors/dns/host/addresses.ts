// Where the node's resolver addresses live, and what to do about each one. The kernel here has no
// `dummy` driver (dcos-net's `spartan` interface), so they go on `lo` as /32 (/128) host addresses:
// lo exists on every host and in every network namespace, never goes down, carries no traffic of its
// own, and the kernel delivers to any local address whatever interface a packet came in on — a
// container on a bridge reaches them through its default gateway, the overlay the same way. A bridge
// of our own would need the overlay to exist (or one more device to create, keep up and remove) and
// would be one more interface in the host's routing. IPv4 addresses carry the label `lo:dcnet`, so
// a restarted node knows the ones a crashed run left are its own. Pure: the actor runs `ip`.
import { isIP } from "node:net";
import { parseIp } from "../../../config/ip.js";

export const RESOLVER_DEVICE = "lo";
/** IPv4 label (must start with the device name, at most 15 bytes): marks the addresses as dcnet's. */
export const RESOLVER_LABEL = "lo:dcnet";

/** One address as `ip -j addr show` lists it. */
export interface HostAddress {
  readonly ifname: string;
  readonly local: string;
  readonly prefixlen: number;
  readonly label?: string;
}

/** `ip -j addr show` → every address on every interface; anything unreadable is skipped. */
export function parseIpAddrJson(text: string): HostAddress[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(v)) return [];
  const out: HostAddress[] = [];
  for (const link of v as unknown[]) {
    if (typeof link !== "object" || link === null) continue;
    const l = link as { ifname?: unknown; addr_info?: unknown };
    if (typeof l.ifname !== "string" || !Array.isArray(l.addr_info)) continue;
    for (const a of l.addr_info as unknown[]) {
      const x = a as { local?: unknown; prefixlen?: unknown; label?: unknown };
      if (typeof x.local !== "string" || typeof x.prefixlen !== "number") continue;
      out.push({ ifname: l.ifname, local: x.local, prefixlen: x.prefixlen, ...(typeof x.label === "string" ? { label: x.label } : {}) });
    }
  }
  return out;
}

/**
 * What to do with one configured address:
 * - `add`: not on the host; put it on lo.
 * - `own`: on lo already with dcnet's label (a previous run that did not stop cleanly): used, and removed at stop.
 * - `adopt`: on lo without the label (an operator put it there): used as is, never removed.
 * - `conflict`: on another interface: something else uses it. Not touched, never removed; the
 *   listener still binds it if port 53 is free there (it is a local address either way).
 */
export type AddressPlan =
  | { readonly address: string; readonly action: "add" | "own" | "adopt" }
  | { readonly address: string; readonly action: "conflict"; readonly on: string; readonly prefixlen: number };

export function planAddresses(configured: readonly string[], present: readonly HostAddress[]): AddressPlan[] {
  return configured.map((address): AddressPlan => {
    const found = present.filter((p) => sameIp(p.local, address));
    const other = found.find((p) => p.ifname !== RESOLVER_DEVICE);
    if (other) return { address, action: "conflict", on: other.ifname, prefixlen: other.prefixlen };
    const onLo = found[0];
    if (!onLo) return { address, action: "add" };
    return { address, action: onLo.label === RESOLVER_LABEL ? "own" : "adopt" };
  });
}

/** `ip` arguments that put one address on lo (v4 labelled, v6 without duplicate address detection). */
export function addArgs(address: string): string[] {
  return isIP(address) === 6 ? ["-6", "addr", "add", `${address}/128`, "dev", RESOLVER_DEVICE, "nodad"] : ["addr", "add", `${address}/32`, "dev", RESOLVER_DEVICE, "label", RESOLVER_LABEL];
}

export function delArgs(address: string): string[] {
  return isIP(address) === 6 ? ["-6", "addr", "del", `${address}/128`, "dev", RESOLVER_DEVICE] : ["addr", "del", `${address}/32`, "dev", RESOLVER_DEVICE];
}

function sameIp(a: string, b: string): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  return x !== undefined && y !== undefined ? x.family === y.family && x.value === y.value : a === b;
}
