// Builders shared by the renderer's tests (imported by *.test.ts only; nothing in production
// imports this file). Address plan of every test here: hosts 10.77.0.N (fd00:77::N), containers
// 9.0.N.x on host N, IP VIPs 11.0.0.x / fd01:c::x, named VIP addresses 11.0.1.x / fd01:c::1:x.
import type { Backend, DesiredState, KernelVip } from "../model.js";
import { kernelVipKey } from "../model.js";
import type { DesiredInput } from "./desired.js";

export function backend(owner: string, agentIp: string, ip: string, port: number, weight: 0 | 1 = 1, direct?: { ip: string; port: number }): Backend {
  return { owner, taskId: `task-${owner}-${ip}-${port}`, agentIp, ip, port, weight, ...(direct ? { direct } : {}) };
}

export function input(table: Record<string, Backend[]>, more: Partial<DesiredInput> = {}): DesiredInput {
  return {
    table: new Map(Object.entries(table)),
    addresses: new Map(),
    deadNodes: new Set(),
    localIps: new Set(["10.77.0.1", "fd00:77::1"]),
    forbidden: ["9.0.0.0/8", "44.128.0.0/20"],
    maxBackends: 64,
    ipv6: true,
    ...more,
  };
}

export function vip(addr: string, protocol: "tcp" | "udp", port: number, backends: Array<[string, number]>, draining: Array<[string, number]> = []): KernelVip {
  return {
    family: addr.includes(":") ? "ip6" : "ip",
    addr,
    protocol,
    port,
    backends: backends.map(([ip, p]) => ({ ip, port: p })),
    draining: draining.map(([ip, p]) => ({ ip, port: p })),
  };
}

export function state(vips: KernelVip[], hairpin: string[] = []): DesiredState {
  return {
    vips: new Map(vips.map((v) => [kernelVipKey(v), v])),
    hairpin: { ip: new Set(hairpin.filter((a) => !a.includes(":"))), ip6: new Set(hairpin.filter((a) => a.includes(":"))) },
  };
}

/**
 * A model of the four sets/maps that executes the element commands the renderer writes, with
 * nft's semantics: deleting a missing element or adding an existing key with another value fails.
 */
export class ElementModel {
  readonly sets = new Map<string, Map<string, string | undefined>>();

  /** Runs every `add element` / `delete element` line (other lines, e.g. a full table, are read for their elements). */
  apply(text: string): void {
    for (const line of text.split("\n")) {
      const m = /^(add|delete) element (ip6?) (\S+) (\S+) \{ (.*) \}$/.exec(line);
      if (!m) continue;
      const [, verb, family, , set, body] = m;
      const items = (body ?? "").split(", ");
      const key = `${family ?? ""} ${set ?? ""}`;
      const s = this.sets.get(key) ?? new Map<string, string | undefined>();
      this.sets.set(key, s);
      for (const item of items) {
        const [k = "", v] = item.split(" : ");
        if (verb === "delete") {
          if (!s.has(k)) throw new Error(`delete of a missing element ${key} { ${k} }`);
          s.delete(k);
        } else {
          if (s.has(k) && s.get(k) !== v) throw new Error(`add of an existing element ${key} { ${k} } with another value`);
          s.set(k, v);
        }
      }
    }
  }

  /** Loads the elements of renderFull text (replacing everything, as the transaction does). */
  loadFull(text: string): void {
    this.sets.clear();
    let family = "";
    let set = "";
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      const t = /^table (ip6?) \S+ \{$/.exec(line);
      if (t) family = t[1] ?? "";
      const s = /^(?:map|set) (\S+) \{$/.exec(line);
      if (s) {
        set = s[1] ?? "";
        this.sets.set(`${family} ${set}`, new Map());
        continue;
      }
      if (line === "}" || line.startsWith("elements") || line.startsWith("type") || line === "") continue;
      if (set && !line.startsWith("chain") && !line.includes(" { ")) {
        const [k = "", v] = line.replace(/,$/, "").split(" : ");
        this.sets.get(`${family} ${set}`)?.set(k, v);
      }
      if (line.startsWith("chain")) set = "";
    }
  }

  /** Sorted `family set key [: value]` lines. */
  dump(): string[] {
    const out: string[] = [];
    for (const [name, s] of this.sets) for (const [k, v] of s) out.push(`${name} ${k}${v === undefined ? "" : ` : ${v}`}`);
    return out.sort();
  }
}
