// VIP labels → VIP keys, tasks → backends, backends → the VIP table (dcos-net §3.1–§3.3:
// dcos_l4lb_mesos_poller.erl key/3 and backend selection, dcos_l4lb_lashup_vip_listener.erl names).
import type { Backend, Protocol, Task, VipKey } from "../model.js";
import { ipFamily } from "./json.js";
import { dcosDomainFrag } from "./labels.js";

export interface ConversionProblem {
  /** What was skipped, e.g. `task <framework-id>/<task-id>` or `vip label "/x:0"`. */
  readonly item: string;
  readonly message: string;
}

export function isConversionProblem(v: unknown): v is ConversionProblem {
  return typeof v === "object" && v !== null && "item" in v && "message" in v;
}

/**
 * Parse a raw VIP label (`/myapp:80`, `name:80`, `11.1.1.1:80`, `fd01::1:80`) split at the LAST ':'.
 * `protocol` comes from the port carrying the label (the label itself has none).
 */
export function parseVipLabel(label: string, framework: string, protocol: Protocol = "tcp"): VipKey | ConversionProblem {
  const item = `vip label ${JSON.stringify(String(label).slice(0, 300))}`;
  if (typeof label !== "string" || label.length < 3 || label.length > 300) {
    return { item, message: "must be a string of 3..300 characters" };
  }
  const at = label.lastIndexOf(":");
  const head = at > 0 ? label.slice(0, at) : "";
  const portText = label.slice(at + 1);
  if (at <= 0 || !/^[0-9]{1,5}$/.test(portText)) return { item, message: "expected <name-or-ip>:<port>" };
  const port = Number(portText);
  if (port < 1 || port > 65535) return { item, message: `port ${port} out of range 1..65535` };
  const bare = head.startsWith("[") && head.endsWith("]") ? head.slice(1, -1) : head;
  if (ipFamily(bare) !== undefined) return { protocol, name: bare.toLowerCase(), port, framework, kind: "ip" };
  // dcosDomainFrag(head) is empty exactly when head has no ASCII letter or digit.
  if (!/[A-Za-z0-9]/.test(head)) {
    return { item, message: "name part has no DNS-usable characters" };
  }
  return { protocol, name: head, port, framework, kind: "named" };
}

/** DNS name of a named VIP (without the `.l4lb.thisdcos.directory` zone): `/mygroup/myapp` → `mygroupmyapp.marathon`. */
export function vipDnsName(label: string, framework: string): string {
  return `${dcosDomainFrag(label)}.${dcosDomainFrag(framework)}`;
}

/** Canonical table key: `tcp:/myapp:80@marathon` (named), `tcp:11.1.1.1:80`, `udp:[fd01::1]:53` (IP). */
export function vipKeyString(vip: VipKey): string {
  if (vip.kind === "ip") {
    const host = vip.name.includes(":") ? `[${vip.name}]` : vip.name;
    return `${vip.protocol}:${host}:${vip.port}`;
  }
  return `${vip.protocol}:${vip.name}:${vip.port}@${vip.framework}`;
}

/** Inverse of vipKeyString (framework "" for IP VIPs, which are framework-independent). */
export function vipKeyFromString(key: string): VipKey | undefined {
  const m = /^(tcp|udp):(.*)$/.exec(key);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const protocol = m[1] as Protocol;
  const at = m[2].lastIndexOf("@");
  const colon = m[2].lastIndexOf(":");
  if (at > colon) {
    const vip = parseVipLabel(m[2].slice(0, at), m[2].slice(at + 1), protocol);
    return isConversionProblem(vip) || vip.kind !== "named" ? undefined : vip;
  }
  const vip = parseVipLabel(m[2], "", protocol);
  return isConversionProblem(vip) || vip.kind !== "ip" ? undefined : vip;
}

/** Weight per §3.3: 1 when running and not known unhealthy; 0 when killing or unhealthy (draining). */
function weightOf(task: Task): 0 | 1 {
  return task.state === "running" && task.healthy !== false ? 1 : 0;
}

/** Backends this task contributes to each VIP on its ports (only running/killing tasks). */
export function backendsOf(task: Task, owner: string): Array<{ vip: VipKey; backend: Backend }> {
  if (task.state !== "running" && task.state !== "killing") return [];
  const weight = weightOf(task);
  const out: Array<{ vip: VipKey; backend: Backend }> = [];
  for (const p of task.ports) {
    for (const label of p.vips) {
      const vip = parseVipLabel(label, task.framework, p.protocol);
      if (isConversionProblem(vip)) continue;
      const base = { owner, taskId: task.id, agentIp: task.agentIp, weight };
      if (p.hostPort !== undefined) {
        // Docker tasks too, unlike dcos-net (commit f16e4d8 left them to docker-proxy): the container's
        // address is as reachable from its own agent, and it saves the userland proxy's hop.
        const own = p.port === undefined ? undefined : task.taskIps.find((ip) => ip !== task.agentIp && ipFamily(ip) === ipFamily(task.agentIp));
        const direct = own !== undefined && p.port !== undefined ? { direct: { ip: own, port: p.port } } : {};
        out.push({ vip, backend: { ...base, ip: task.agentIp, port: p.hostPort, ...direct } });
        continue;
      }
      if (p.port === undefined) continue;
      const family = vip.kind === "ip" ? ipFamily(vip.name) : undefined;
      for (const ip of task.taskIps) {
        if (family !== undefined && ipFamily(ip) !== family) continue;
        out.push({ vip, backend: { ...base, ip, port: p.port } });
      }
    }
  }
  return out;
}

function compareBackends(a: Backend, b: Backend): number {
  return (
    cmp(a.ip, b.ip) || a.port - b.port || cmp(a.taskId, b.taskId) || cmp(a.owner, b.owner) || a.weight - b.weight
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The key of "exact duplicates" in a VIP's backend list: the last of equal ones is kept. */
function dedupeId(b: Backend): string {
  return `${b.owner}\u0000${b.taskId}\u0000${b.ip}\u0000${b.port}\u0000${b.weight}`;
}

/** Group backends by canonical VIP key; keys and backends sorted, exact duplicates dropped. */
export function vipTable(entries: Iterable<{ vip: VipKey; backend: Backend }>): Map<string, Backend[]> {
  const groups = new Map<string, Map<string, Backend>>();
  for (const { vip, backend } of entries) {
    const key = vipKeyString(vip);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = new Map()));
    g.set(dedupeId(backend), backend);
  }
  const table = new Map<string, Backend[]>();
  for (const key of [...groups.keys()].sort(cmp)) {
    table.set(key, [...(groups.get(key)?.values() ?? [])].sort(compareBackends));
  }
  return table;
}

/** Equal backend lists, field by field (a task rewritten with the same backends changes nothing). */
export function sameBackends(a: readonly Backend[], b: readonly Backend[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Backend;
    const y = b[i] as Backend;
    if (x === y) continue;
    if (x.ip !== y.ip || x.port !== y.port || x.taskId !== y.taskId || x.owner !== y.owner || x.weight !== y.weight || x.agentIp !== y.agentIp) return false;
    if (x.direct?.ip !== y.direct?.ip || x.direct?.port !== y.direct?.port) return false;
  }
  return true;
}

export interface VipTableBuild {
  /** A new table when anything changed, else the previous one; never mutated afterwards. */
  readonly table: ReadonlyMap<string, readonly Backend[]>;
  /** Keys whose backend list differs from the previous build's (added, removed or modified). */
  readonly changed: ReadonlySet<string>;
}

interface Source {
  /** Its place among the sources, as a Map keeps it: set again keeps it, delete and set moves it last. */
  readonly seq: number;
  /**
   * Its backends in the order given, and parallel to them the VIP key of each (the builder's one
   * instance of that key). Two flat arrays, not a map per source: at 30,000 one-backend tasks a
   * Map each was ~6 MB of hash tables.
   */
  readonly keys: readonly string[];
  readonly backends: readonly Backend[];
}

/** The sources contributing to one VIP key, and that key's one string instance (sources share it). */
interface Contributors {
  readonly key: string;
  /**
   * Source ids, each once; few per key, so an array (a Set each was ~2 MB at 10,000 keys), replaced
   * rather than pushed to: an array grown by push keeps room for 16 more (~130 bytes each).
   */
  sources: readonly string[];
}

/**
 * vipTable kept up to date source by source (a source: one task): a change rebuilds only the VIP
 * keys it touches, so one task change at 10,000 VIPs costs its own VIPs plus a copy of the key map,
 * not a group and sort of every backend. `build()` equals vipTable over every source's entries in
 * the order the sources were first set, and says which keys changed.
 */
export class VipTableBuilder {
  #seq = 0;
  readonly #sources = new Map<string, Source>();
  /** VIP key → the sources contributing to it. */
  readonly #contributors = new Map<string, Contributors>();
  /** VIP keys some set/delete touched since the last build. */
  readonly #dirty = new Set<string>();
  #table: Map<string, readonly Backend[]> = new Map();
  /** The table's keys, sorted (the table's order). */
  #keys: string[] = [];

  /** The entries of one source, replacing what it had. */
  set(source: string, entries: Iterable<{ vip: VipKey; backend: Backend }>): void {
    const keys: string[] = [];
    const backends: Backend[] = [];
    const mine = new Set<string>();
    for (const { vip, backend } of entries) {
      const text = vipKeyString(vip);
      let c = this.#contributors.get(text);
      if (!c) this.#contributors.set(text, (c = { key: text, sources: [] }));
      keys.push(c.key);
      backends.push(backend);
      mine.add(c.key);
    }
    const old = this.#sources.get(source);
    if (old) for (const key of new Set(old.keys)) if (!mine.has(key)) this.#leave(key, source);
    for (const key of mine) {
      const c = this.#contributors.get(key) as Contributors;
      if (!c.sources.includes(source)) c.sources = c.sources.concat(source);
      this.#dirty.add(key);
    }
    // Exact-size copies: arrays grown by push keep room for 16 more entries, at 30,000 sources ~8 MB.
    this.#sources.set(source, { seq: old ? old.seq : this.#seq++, keys: keys.slice(), backends: backends.slice() });
  }

  delete(source: string): void {
    const old = this.#sources.get(source);
    if (!old) return;
    for (const key of new Set(old.keys)) this.#leave(key, source);
    this.#sources.delete(source);
  }

  #leave(key: string, source: string): void {
    const c = this.#contributors.get(key);
    if (c?.sources.includes(source)) c.sources = c.sources.filter((s) => s !== source);
    this.#dirty.add(key);
  }

  /** The table after every set/delete so far; unchanged keys keep their backend arrays. */
  build(): VipTableBuild {
    const changed = new Set<string>();
    const updates = new Map<string, readonly Backend[] | undefined>();
    const added: string[] = [];
    let removed = 0;
    for (const key of this.#dirty) {
      const before = this.#table.get(key);
      const c = this.#contributors.get(key);
      if (!c || c.sources.length === 0) {
        this.#contributors.delete(key);
        if (before) {
          updates.set(key, undefined);
          changed.add(key);
          removed++;
        }
        continue;
      }
      const list = this.#backendsOf(key, c.sources);
      if (before && sameBackends(before, list)) continue;
      if (!before) added.push(key);
      updates.set(key, list);
      changed.add(key);
    }
    this.#dirty.clear();
    if (changed.size === 0) return { table: this.#table, changed };
    let next: Map<string, readonly Backend[]>;
    if (added.length === 0 && removed === 0) {
      // Same keys: Map.set on an existing key keeps its place, so the order needs no sort.
      next = new Map(this.#table);
      for (const [key, list] of updates) next.set(key, list as readonly Backend[]);
    } else {
      this.#keys = mergeSorted(removed === 0 ? this.#keys : this.#keys.filter((k) => !(updates.has(k) && updates.get(k) === undefined)), added.sort(cmp));
      next = new Map();
      for (const key of this.#keys) next.set(key, updates.get(key) ?? (this.#table.get(key) as readonly Backend[]));
    }
    this.#table = next;
    return { table: next, changed };
  }

  /** vipTable's grouping for one key: its sources in order, duplicates dropped (last kept), sorted. */
  #backendsOf(key: string, ids: readonly string[]): Backend[] {
    const sources: Source[] = [];
    for (const id of ids) sources.push(this.#sources.get(id) as Source);
    if (sources.length > 1) sources.sort((a, b) => a.seq - b.seq);
    const g = new Map<string, Backend>();
    for (const s of sources) {
      for (let i = 0; i < s.keys.length; i++) if (s.keys[i] === key) g.set(dedupeId(s.backends[i] as Backend), s.backends[i] as Backend);
    }
    return [...g.values()].sort(compareBackends);
  }
}

/** Two sorted key lists (disjoint) as one sorted list. */
function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  if (b.length === 0) return a.slice();
  const out: string[] = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = cmp(a[i] as string, b[j] as string) <= 0 ? (a[i++] as string) : (b[j++] as string);
  while (i < a.length) out[k++] = a[i++] as string;
  while (j < b.length) out[k++] = b[j++] as string;
  return out;
}
