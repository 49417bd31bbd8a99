// Collects records for one zone and freezes them into the `Zone` shape of types.ts. Producers
// (dcos, thisnode, custom, mesos, later l4lb) differ only in which records they add, so every
// normalisation and consistency rule lives here once.
import type { SoaData, SrvData } from "dns-packet";
import { canonicalIp, inZone, nameProblem, normalizeName, parentsBelow } from "./names.js";
import type { NameRecords, Zone, ZoneRecord, ZoneRecordType } from "./types.js";

/** A record that could not go into a zone; the zone is still built without it. */
export interface ZoneProblem {
  readonly item: string;
  readonly message: string;
}

/** SOA/NS/TTL settings; DCOS_ZONE_DEFAULTS are dcos-net's constants (dcos-net.md §2.3). */
export interface ZoneDefaults {
  /** TTL of every A/AAAA/SRV/CNAME record. */
  readonly ttl: number;
  /** SOA `minimum`, i.e. the negative-caching TTL (RFC 2308). */
  readonly negativeTtl: number;
  readonly soaTtl: number;
  readonly soaMname: string;
  readonly soaRname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly nsNames: readonly string[];
  readonly nsTtl: number;
}

export const DCOS_ZONE_DEFAULTS: ZoneDefaults = Object.freeze({
  ttl: 5,
  negativeTtl: 1,
  soaTtl: 5,
  soaMname: "ns.spartan",
  soaRname: "support.mesosphere.com",
  serial: 1,
  refresh: 60,
  retry: 180,
  expire: 86400,
  nsNames: Object.freeze(["ns.spartan"]),
  nsTtl: 3600,
});

/** Options every zone function takes: defaults to override, and where skipped records are reported. */
export interface ZoneOptions extends Partial<ZoneDefaults> {
  readonly onProblem?: (problem: ZoneProblem) => void;
}

/** What `add` accepts: the record without owner; `ttl` falls back to the zone's default TTL. */
type RecordInput =
  | { readonly type: "A" | "AAAA" | "CNAME"; readonly data: string; readonly ttl?: number }
  | { readonly type: "SRV"; readonly data: SrvData; readonly ttl?: number };

interface ZoneHead {
  readonly soa: Zone["soa"];
  readonly ns: Zone["ns"];
  readonly defaultTtl: number;
  readonly mesosDnsCompat?: boolean;
}

/** The zone head (SOA, NS, default TTL): `base` (dcos-net's constants unless given) with `overrides` applied. */
export function headFromDefaults(overrides: Partial<ZoneDefaults> = {}, base: ZoneDefaults = DCOS_ZONE_DEFAULTS): ZoneHead {
  // An explicit `undefined` (e.g. `{ ttl: cfg.ttl }` with the key unset) must not erase a default.
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<ZoneDefaults>;
  const d: ZoneDefaults = { ...base, ...set };
  const soa: SoaData = {
    mname: d.soaMname,
    rname: d.soaRname,
    serial: d.serial,
    refresh: d.refresh,
    retry: d.retry,
    expire: d.expire,
    minimum: d.negativeTtl,
  };
  return { soa: { ttl: d.soaTtl, data: soa }, ns: { ttl: d.nsTtl, names: d.nsNames }, defaultTtl: d.ttl };
}

const MAX_TTL = 2 ** 31 - 1; // RFC 2181 §8
const isU16 = (n: number | undefined): boolean => n === undefined || (Number.isInteger(n) && n >= 0 && n <= 65535);

function dataKey(r: ZoneRecord): string {
  if (r.type === "SRV") return `${r.data.priority ?? 0} ${r.data.weight ?? 0} ${r.data.port} ${r.data.target}`;
  if (r.type === "SOA") return JSON.stringify(r.data);
  return r.data;
}

/** A target name (CNAME, SRV) normalised, or the reason it is unusable. */
function target(name: string): { name: string } | { problem: string } {
  const n = normalizeName(name);
  const why = nameProblem(n);
  return why === undefined ? { name: n } : { problem: `target ${JSON.stringify(name)}: ${why}` };
}

/** Checks and normalises the record data; a string is the reason it was rejected. */
function normalizeRecord(input: RecordInput, ttl: number): ZoneRecord | string {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) return `ttl ${ttl} is not an integer in 0..${MAX_TTL}`;
  // Producers are typed, but a record read from the store may still be malformed: never throw.
  const wantsObject = input.type === "SRV";
  if (wantsObject !== (typeof input.data === "object" && input.data !== null)) return `malformed ${String(input.type)} data`;
  switch (input.type) {
    case "A":
    case "AAAA": {
      const ip = canonicalIp(input.data);
      const want = input.type === "A" ? 4 : 6;
      if (ip?.family !== want) return `${JSON.stringify(input.data)} is not an IPv${want} address`;
      return { type: input.type, ttl, data: ip.text };
    }
    case "CNAME": {
      const t = target(input.data);
      return "problem" in t ? t.problem : { type: "CNAME", ttl, data: t.name };
    }
    case "SRV": {
      const { port, priority, weight } = input.data;
      if (port === undefined || !isU16(port) || !isU16(priority) || !isU16(weight)) return "SRV port, priority and weight must be integers in 0..65535";
      if (typeof input.data.target !== "string") return "malformed SRV target";
      const t = target(input.data.target);
      if ("problem" in t) return t.problem;
      return { type: "SRV", ttl, data: { priority: priority ?? 0, weight: weight ?? 0, port, target: t.name } };
    }
    default:
      return `type ${String((input as { type: unknown }).type)} cannot be added (SOA and NS come from the zone head)`;
  }
}

/** One owner's records of one type, with the dedupe keys of their data. */
interface RRset {
  readonly records: ZoneRecord[];
  readonly keys: Set<string>;
}

type Sets = Map<ZoneRecordType, RRset>;

export class ZoneBuilder {
  readonly origin: string;
  readonly #head: ZoneHead;
  readonly #names = new Map<string, Sets>();
  readonly #problems: ZoneProblem[] = [];
  readonly #onProblem: ((p: ZoneProblem) => void) | undefined;

  constructor(origin: string, head: ZoneHead, onProblem?: (p: ZoneProblem) => void) {
    this.origin = normalizeName(origin);
    this.#head = head;
    this.#onProblem = onProblem;
    const why = nameProblem(this.origin);
    if (why !== undefined) this.#report(`zone ${JSON.stringify(origin)}`, why);
  }

  /** Problems so far (also passed to `onProblem` as they happen). */
  get problems(): readonly ZoneProblem[] {
    return this.#problems;
  }

  #report(item: string, message: string): ZoneProblem {
    const p = { item, message };
    this.#problems.push(p);
    this.#onProblem?.(p);
    return p;
  }

  /** The normalised owner and its record sets so far, or the reason it cannot be an owner here. */
  #owner(name: string, type: string): { owner: string; sets: Sets | undefined } | ZoneProblem {
    const owner = normalizeName(typeof name === "string" ? name : "");
    const sets = this.#names.get(owner);
    if (sets !== undefined) return { owner, sets }; // checked when its first record went in
    const why = nameProblem(owner) ?? (inZone(owner, this.origin) ? undefined : `outside zone ${this.origin}`);
    return why === undefined ? { owner, sets } : this.#report(`${owner} ${type}`, why);
  }

  /** Adds one record; a rejected record is reported and returned as a problem, never thrown. */
  add(name: string, input: RecordInput): ZoneProblem | undefined {
    const o = this.#owner(name, String(input.type));
    if ("message" in o) return o;
    const rec = normalizeRecord(input, input.ttl ?? this.#head.defaultTtl);
    if (typeof rec === "string") return this.#report(`${o.owner} ${input.type}`, rec);
    return this.#insert(o.owner, o.sets, rec);
  }

  /** A or AAAA by the address family of `ip`. */
  addAddress(name: string, ip: string, ttl?: number): ZoneProblem | undefined {
    const parsed = canonicalIp(ip);
    if (parsed === undefined) return this.#report(`${normalizeName(String(name))} A/AAAA`, `${JSON.stringify(ip)} is not an IP address`);
    return this.add(name, { type: parsed.family === 4 ? "A" : "AAAA", data: parsed.text, ttl });
  }

  #insert(owner: string, sets: Sets | undefined, rec: ZoneRecord): ZoneProblem | undefined {
    const key = dataKey(rec);
    const rrset = sets?.get(rec.type);
    if (rrset?.keys.has(key)) return undefined;
    const conflict = this.#cnameConflict(owner, rec.type, sets);
    if (conflict !== undefined) return this.#report(`${owner} ${rec.type}`, conflict);
    if (rrset !== undefined) {
      rrset.records.push(rec);
      rrset.keys.add(key);
    } else if (sets !== undefined) {
      sets.set(rec.type, { records: [rec], keys: new Set([key]) });
    } else {
      this.#names.set(owner, new Map([[rec.type, { records: [rec], keys: new Set([key]) }]]));
    }
    return undefined;
  }

  // RFC 1034 §3.6.2: a CNAME owner has no other data, and the apex always has SOA and NS.
  #cnameConflict(owner: string, type: ZoneRecordType, sets: Sets | undefined): string | undefined {
    if (type === "CNAME" && owner === this.origin) return "CNAME at the zone apex (it has SOA and NS)";
    if (sets === undefined) return undefined;
    if (type === "CNAME") return sets.has("CNAME") ? "a second CNAME for the same name" : "CNAME beside other records of the same name";
    return sets.has("CNAME") ? "record beside a CNAME of the same name" : undefined;
  }

  /** The zone: apex SOA and NS, every added record, and an empty map for each empty non-terminal. */
  build(): Zone {
    const origin = this.origin;
    const { soa, ns, mesosDnsCompat } = this.#head;
    const soaData: SoaData = { ...soa.data, mname: normalizeName(soa.data.mname), rname: normalizeName(soa.data.rname) };
    const nsNames = [...new Set(ns.names.map(normalizeName))];
    const names = new Map<string, NameRecords>();
    // Copies, so records added after build() never show up in a zone already handed out.
    const copy = (sets: Sets) => new Map([...sets].map(([t, rr]) => [t, [...rr.records]] as const));
    const apex = new Map<ZoneRecordType, readonly ZoneRecord[]>(copy(this.#names.get(origin) ?? new Map()));
    apex.set("SOA", [{ type: "SOA", ttl: soa.ttl, data: soaData }]);
    apex.set("NS", nsNames.map((n) => ({ type: "NS", ttl: ns.ttl, data: n })));
    names.set(origin, apex);
    for (const [owner, sets] of this.#names) {
      if (owner === origin) continue;
      // Overwrites an empty map set for this name while an earlier, deeper name was walked up.
      names.set(owner, copy(sets));
      for (const parent of parentsBelow(owner, origin)) if (!names.has(parent)) names.set(parent, new Map());
    }
    const zone: Zone = { origin, soa: { ttl: soa.ttl, data: soaData }, ns: { ttl: ns.ttl, names: nsNames }, names };
    return mesosDnsCompat === undefined ? zone : { ...zone, mesosDnsCompat };
  }

  /** A builder whose SOA/NS/TTL come from dcos-net's constants with `opts` applied. */
  static dcos(origin: string, opts: ZoneOptions = {}): ZoneBuilder {
    const { onProblem, ...overrides } = opts;
    return new ZoneBuilder(origin, headFromDefaults(overrides), onProblem);
  }
}
