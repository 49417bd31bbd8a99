// The shape every part of DNS agrees on: a zone is an immutable map from owner name to record
// sets, built by pure functions (zones/*) and read by the answer path (wire/*). Names are stored
// lower-case, without the trailing dot ("app.marathon.mesos"), so a lookup is one Map.get.
import type { SoaData, SrvData } from "dns-packet";

/** Record types dcnet serves from its own zones. */
export type ZoneRecordType = "A" | "AAAA" | "SRV" | "CNAME" | "NS" | "SOA";

export type ZoneRecord =
  | { readonly type: "A" | "AAAA" | "CNAME" | "NS"; readonly ttl: number; readonly data: string }
  | { readonly type: "SRV"; readonly ttl: number; readonly data: SrvData }
  | { readonly type: "SOA"; readonly ttl: number; readonly data: SoaData };

/** The record sets of one owner name, by type. An empty map marks an empty non-terminal (NODATA, not NXDOMAIN). */
export type NameRecords = ReadonlyMap<ZoneRecordType, readonly ZoneRecord[]>;

export interface Zone {
  /** Apex, lower-case, no trailing dot: "dcos.thisdcos.directory", "mesos". */
  readonly origin: string;
  /** Apex SOA; its `minimum` is the negative-caching TTL (RFC 2308). */
  readonly soa: { readonly ttl: number; readonly data: SoaData };
  readonly ns: { readonly ttl: number; readonly names: readonly string[] };
  /** Every owner name in the zone (the apex and empty non-terminals included). */
  readonly names: ReadonlyMap<string, NameRecords>;
  /** Mesos-DNS wire quirks (no OPT, SRV NOERROR without SOA, SOA/NS in authority): only when configured. */
  readonly mesosDnsCompat?: boolean;
}

/** Every zone a node answers for, as one immutable snapshot; a new one replaces it whole. */
export interface ZoneSet {
  /** Increases with every snapshot; answer caches key on it. */
  readonly generation: number;
  /** By origin. */
  readonly zones: ReadonlyMap<string, Zone>;
}
