// The zone view's records a page at a time, for readers that stream them (the HTTP API's
// `/v1/records`): keyset paging over the one order `zoneRecords` lists a zone in — origin, then
// owner name as printed (with its trailing dot), type, data — so the pages of one zone put together
// are byte for byte `zoneRecords(zone)`, and a page never needs more than its own rows in memory.
//
// Each page is read from the zone set current when it is asked for, continuing strictly after the
// cursor: a record present for the whole walk is listed exactly once, a record added or removed
// meanwhile at most once, and the output stays in order without repeats. The only thing kept between
// pages is a sorted index of each zone's owner names (references, one per name), made on the first
// page asked of that zone and dropped with the zone when a rebuild replaces it.
import type { Zone, ZoneRecordType } from "./zones/types.js";
import { recordData, type ZoneRow } from "./zones/zoneset.js";

/** Where a walk stands: the last row handed out. Opaque to readers; they send back what they got. */
export interface RecordCursor {
  readonly zone: string;
  /** Owner as the zone keys it (lower-case, no trailing dot). */
  readonly name: string;
  readonly type: string;
  readonly data: string;
  /** Rows with exactly this name, type and data already handed out (1 unless a zone holds duplicates). */
  readonly seen: number;
}

export interface RecordsPageRequest {
  /** One zone (any case, trailing dot allowed); absent: every zone, in origin order. */
  readonly zone?: string;
  readonly after?: RecordCursor;
  /** Rows per page, at least 1. */
  readonly limit: number;
  /** Only these types (absent: all). */
  readonly types?: readonly ZoneRecordType[];
}

export interface RecordsPage {
  /** Origins of every zone served now, sorted. */
  readonly zones: readonly string[];
  readonly rows: readonly ZoneRow[];
  /** Ask again with this as `after`; absent when the walk is complete. */
  readonly next?: RecordCursor;
}

/** Largest page a reader may ask for; more is cut to this (a page is what a reader holds at once). */
export const MAX_RECORDS_PAGE = 4096;

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `a.` against `b.` in plain string order, without building either string. */
export function compareOwners(a: string, b: string): number {
  // Only when one name is a prefix of the other does the dot change the order; otherwise the first
  // difference lies inside both names and the native comparison decides.
  if (a.length < b.length && b.startsWith(a)) return 46 - b.charCodeAt(a.length) || -1;
  if (b.length < a.length && a.startsWith(b)) return a.charCodeAt(b.length) - 46 || 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The rows of one owner, in `zoneRecords` order (type, data; equal keys keep the zone's order). */
function ownerRows(name: string, zone: Zone, types: ReadonlySet<string> | undefined): ZoneRow[] {
  const rows: ZoneRow[] = [];
  const fqdn = `${name}.`;
  for (const records of zone.names.get(name)?.values() ?? []) {
    for (const r of records) if (!types || types.has(r.type)) rows.push({ name: fqdn, type: r.type, ttl: r.ttl, data: recordData(r) });
  }
  return rows.sort((a, b) => cmp(a.type, b.type) || cmp(a.data, b.data));
}

const normalize = (zone: string): string => zone.toLowerCase().replace(/\.$/, "");

/** Pages of the zone sets a zone actor publishes; holds only the per-zone name indexes. */
export class RecordPager {
  readonly #index = new WeakMap<Zone, readonly string[]>();

  #names(zone: Zone): readonly string[] {
    let names = this.#index.get(zone);
    if (!names) {
      names = [...zone.names.keys()].sort(compareOwners);
      this.#index.set(zone, names);
    }
    return names;
  }

  page(zones: ReadonlyMap<string, Zone>, req: RecordsPageRequest): RecordsPage {
    const origins = [...zones.keys()].sort();
    const limit = Math.max(1, Math.min(MAX_RECORDS_PAGE, Math.floor(req.limit)));
    const types = req.types ? new Set<string>(req.types) : undefined;
    const only = req.zone !== undefined ? normalize(req.zone) : undefined;
    const after = req.after;
    const rows: ZoneRow[] = [];
    let last: RecordCursor | undefined;
    for (const origin of origins) {
      if ((only !== undefined && origin !== only) || (after && origin < after.zone)) continue;
      const zone = zones.get(origin) as Zone;
      const names = this.#names(zone);
      let i = after && origin === after.zone ? firstAtOrAfter(names, after.name) : 0;
      for (; i < names.length; i++) {
        const name = names[i] as string;
        let own = ownerRows(name, zone, types);
        if (after && origin === after.zone && name === after.name) own = rowsAfter(own, after);
        for (const row of own) {
          if (rows.length === limit) return { zones: origins, rows, ...(last ? { next: last } : {}) };
          rows.push(row);
          const prev = last ?? after;
          const repeat = prev !== undefined && prev.zone === origin && prev.name === name && prev.type === row.type && prev.data === row.data;
          last = { zone: origin, name, type: row.type, data: row.data, seen: repeat ? prev.seen + 1 : 1 };
        }
      }
    }
    return { zones: origins, rows };
  }
}

/** Index of the first name not before `name` in the index's order. */
function firstAtOrAfter(names: readonly string[], name: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareOwners(names[mid] as string, name) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The rows of the cursor's owner that come after it: later keys, and duplicates of its key not yet handed out. */
function rowsAfter(rows: readonly ZoneRow[], after: RecordCursor): ZoneRow[] {
  let same = 0;
  return rows.filter((r) => {
    const c = cmp(r.type, after.type) || cmp(r.data, after.data);
    if (c !== 0) return c > 0;
    return ++same > after.seen;
  });
}
