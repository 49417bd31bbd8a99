// Which conntrack entries to delete after a change (dataplane.md §6, issue 12 point 5): a flow keeps
// going to its old backend as long as its entry lives, so removed backends must be flushed for
// clients to fail over in one round trip.
import type { DesiredState, Endpoint, Family, KernelVip, Protocol } from "../model.js";

export interface CtFlush {
  readonly family: Family;
  readonly protocol: Protocol;
  /** The VIP address and port: the entries' original destination. */
  readonly vip: string;
  readonly vport: number;
  /** The backend: the entries' reply source. */
  readonly backend: Endpoint;
}

const epId = (e: Endpoint): string => `${e.ip} ${e.port}`;

/**
 * UDP: every backend that left the serving set, draining included (UDP has no connection to drain,
 * and a client with a fixed source port would stay on the old backend for as long as it sends).
 * TCP: only backends gone entirely (not serving, not draining, or the VIP is gone): a draining
 * backend keeps its established connections, a removed one answers nothing or RST.
 */
export function conntrackFlushes(prev: DesiredState, next: DesiredState): CtFlush[] {
  const out: CtFlush[] = [];
  for (const [key, p] of prev.vips) {
    const n = next.vips.get(key);
    if (n === p) continue;
    const still = new Set<string>();
    if (n) {
      for (const b of n.backends) still.add(epId(b));
      if (p.protocol === "tcp") for (const b of n.draining) still.add(epId(b));
    }
    const was = p.protocol === "udp" ? p.backends : [...p.backends, ...p.draining];
    const seen = new Set<string>();
    for (const b of was) {
      const id = epId(b);
      if (still.has(id) || seen.has(id)) continue;
      seen.add(id);
      out.push(flush(p, b));
    }
  }
  return out;
}

function flush(v: KernelVip, backend: Endpoint): CtFlush {
  return { family: v.family, protocol: v.protocol, vip: v.addr, vport: v.port, backend };
}
