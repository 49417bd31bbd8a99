// What the mesos-records actor's worker thread does per refresh: read the leading master's
// /master/state, and unless it is byte-for-byte the document last published (SHA-1), generate
// exactly Mesos-DNS's records from it, grouped and encoded per name as the store keeps them.
// Runs off the node's main thread (mesos-records.worker.ts): all of this is CPU the DNS listeners
// would otherwise wait behind.
import { createHash } from "node:crypto";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { mesosGetText } from "../../catalogue/index.js";
import { generateRecords, type DnsRecord, type MesosDnsConfig } from "../mesos-dns/generate.js";
import { encodeRrs } from "../zones/parts/inputs.js";

export interface ReadRequest {
  readonly master: string;
  readonly timeoutMs: number;
  readonly token?: string;
  /** The generator's settings, without the host lookup (done here). */
  readonly generate: Omit<MesosDnsConfig, "resolveHost">;
  /** SHA-1 of the document last published; the same document again is `unchanged`. */
  readonly lastDigest?: string;
}

export type ReadOutcome =
  | { readonly kind: "unreadable"; readonly error: string }
  | { readonly kind: "not-json"; readonly error: string }
  | { readonly kind: "unchanged" }
  /** names: name (no trailing dot) → JSON of its encoded records, the store's `rrs` field. */
  | { readonly kind: "records"; readonly digest: string; readonly names: ReadonlyArray<readonly [string, string]>; readonly problems: number };

export async function readMesosRecords(req: ReadRequest): Promise<ReadOutcome> {
  let text: string;
  try {
    text = await mesosGetText(req.master, "/master/state", { timeoutMs: req.timeoutMs, ...(req.token ? { token: req.token } : {}), userAgent: "dcnet" });
  } catch (err) {
    return { kind: "unreadable", error: (err as Error).message };
  }
  const digest = createHash("sha1").update(text).digest("hex");
  if (digest === req.lastDigest) return { kind: "unchanged" };
  let state: unknown;
  try {
    state = JSON.parse(text) as unknown;
  } catch (err) {
    return { kind: "not-json", error: (err as Error).message };
  }
  const resolved = await resolveHosts(state);
  const result = generateRecords(state, { ...req.generate, resolveHost: (host) => resolved.get(host) ?? [] });
  const byName = new Map<string, DnsRecord[]>();
  for (const r of result.records) {
    const name = r.name.replace(/\.$/, "");
    const list = byName.get(name);
    if (list) list.push(r);
    else byName.set(name, [r]);
  }
  return { kind: "records", digest, names: [...byName].map(([name, records]) => [name, JSON.stringify(encodeRrs(records))] as const), problems: result.problems.length };
}

/**
 * Mesos-DNS resolves agent and framework host names with the host resolver; the generator is
 * synchronous, so the names in this state are looked up first (all at once, each bounded by the
 * system resolver's own timeout). An unresolvable name simply has no addresses.
 */
async function resolveHosts(state: unknown): Promise<Map<string, string[]>> {
  const hosts = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === "string" && v !== "" && isIP(v) === 0 && /^[A-Za-z0-9.-]+$/.test(v)) hosts.add(v);
  };
  const pidHost = (pid: unknown): void => {
    if (typeof pid === "string") add(/@([^:[\]]+):\d+$/.exec(pid)?.[1]);
  };
  const o = (state ?? {}) as { frameworks?: unknown; slaves?: unknown };
  for (const f of Array.isArray(o.frameworks) ? (o.frameworks as Array<Record<string, unknown>>) : []) {
    // A framework's hostname is used only when it has no PID (Mesos-DNS §1.5): look up nothing else.
    if (f && typeof f === "object") {
      if (typeof f.pid === "string" && f.pid !== "") pidHost(f.pid);
      else add(f.hostname);
    }
  }
  for (const a of Array.isArray(o.slaves) ? (o.slaves as Array<Record<string, unknown>>) : []) {
    if (a && typeof a === "object") pidHost(a.pid);
  }
  const out = new Map<string, string[]>();
  await Promise.all(
    [...hosts].slice(0, 1000).map(async (h) => {
      const r = await lookup(h, { all: true }).catch(() => []);
      if (r.length > 0) out.set(h, r.map((a) => a.address));
    }),
  );
  return out;
}
