// Address leases for one network on one node, as files in the network's `dataDir` (host-local's
// layout): one file per leased address, named by the address, holding the attachment as one JSON
// line. Safe under concurrent plugin processes without a lock: a lease is written whole to a private
// temporary file, then hard-linked to the address's name, and link(2) fails with EEXIST if another
// process holds that address — atomic, exclusive, and no reader ever sees half a lease. Addresses are
// handed out round-robin from the last one reserved (`last_reserved.<family>`), as host-local does, so
// an address just released is not reused at once.
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatIp, parseIp, type Family } from "../../config/ip.js";
import { cidrText, hostRange, poolSize } from "./cidr.js";
import type { AttachmentId, Pool, PortMapping } from "./config.js";
import { CniExhaustedError, CniIoError } from "./errors.js";

/** What a lease file holds. The node reads these too (`ctl overlay leases`, container addresses). */
export interface LeaseRecord extends AttachmentId {
  readonly netns?: string;
  /** The host ports mapped to this address (removed with the lease on DEL). */
  readonly portMappings?: readonly PortMapping[];
}

export interface Lease {
  readonly family: Family;
  /** The address, canonical text (the file's name). */
  readonly ip: string;
  /** Undefined when the file cannot be read as a lease (kept as taken, never released by DEL). */
  readonly record: LeaseRecord | undefined;
}

/**
 * The addresses to try, in order: round-robin after `after` (the last reserved), wrapping, the gateway
 * left out. Lazy: an IPv6 pool has 2^47 addresses, of which the caller needs the first free one.
 */
export function* candidates(pool: Pool, after: bigint | undefined): Generator<bigint> {
  const { first, last } = hostRange(pool.cidr);
  if (last < first) return;
  const start = after !== undefined && after >= first && after < last ? after + 1n : first;
  for (let v = start; v <= last; v++) if (v !== pool.gateway) yield v;
  for (let v = first; v < start; v++) if (v !== pool.gateway) yield v;
}

export function ownedBy(leases: readonly Lease[], id: AttachmentId): Lease[] {
  return leases.filter((l) => l.record?.containerId === id.containerId && l.record.ifname === id.ifname);
}

export function parseLeaseRecord(text: string): LeaseRecord | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null) return undefined;
    const r = v as Record<string, unknown>;
    if (typeof r.containerId !== "string" || typeof r.ifname !== "string") return undefined;
    return v as LeaseRecord;
  } catch {
    return undefined;
  }
}

export class LeaseStore {
  constructor(readonly dir: string) {}

  /** Every lease in the directory (none if it does not exist yet). */
  scan(): Lease[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if (errno(e) === "ENOENT") return [];
      throw io(`cannot read the lease directory ${this.dir}`, e);
    }
    const out: Lease[] = [];
    for (const name of names) {
      const ip = parseIp(name);
      // Also skips last_reserved.*, temporary files and anything else that is not named by an address.
      if (!ip || formatIp(ip.family, ip.value) !== name) continue;
      let text: string;
      try {
        text = readFileSync(join(this.dir, name), "utf8");
      } catch (e) {
        if (errno(e) === "ENOENT") continue; // released meanwhile by another call
        throw io(`cannot read the lease ${join(this.dir, name)}`, e);
      }
      out.push({ family: ip.family, ip: name, record: parseLeaseRecord(text) });
    }
    return out;
  }

  /**
   * Leases one free address of `pool` to `record`. `taken` (from scan) spares the link attempts for
   * addresses known to be held; a race with another process just moves on to the next address.
   */
  reserve(pool: Pool, record: LeaseRecord, taken: ReadonlySet<string>): string {
    const family = pool.cidr.family;
    mkdir(this.dir);
    const tmp = join(this.dir, `.lease-${process.pid}-${unique()}.tmp`);
    try {
      writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o644 });
    } catch (e) {
      throw io(`cannot write in the lease directory ${this.dir}`, e);
    }
    try {
      let tried = 0n;
      const limit = poolSize(pool.cidr, pool.gateway);
      for (const v of candidates(pool, this.lastReserved(family))) {
        if (tried++ >= limit) break;
        const ip = formatIp(family, v);
        if (taken.has(ip)) continue;
        try {
          linkSync(tmp, join(this.dir, ip));
        } catch (e) {
          if (errno(e) === "EEXIST") continue;
          throw io(`cannot create the lease ${join(this.dir, ip)}`, e);
        }
        this.setLastReserved(family, ip);
        return ip;
      }
      throw new CniExhaustedError(`subnet ${cidrText(pool.cidr)} exhausted`, `all ${limit} addresses of ${cidrText(pool.cidr)} for containers are leased (gateway ${formatIp(family, pool.gateway)} excluded); a DEL frees one`);
    } finally {
      tryUnlink(tmp);
    }
  }

  /** Removes leases; one already gone is fine (DEL is idempotent). */
  release(ips: readonly string[]): void {
    for (const ip of ips) {
      try {
        unlinkSync(join(this.dir, ip));
      } catch (e) {
        if (errno(e) !== "ENOENT") throw io(`cannot remove the lease ${join(this.dir, ip)}`, e);
      }
    }
  }

  /** Temporary files a killed plugin left behind (older than `olderThanMs`); for GC. */
  staleTemporaries(olderThanMs: number, now = Date.now()): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.startsWith(".lease-") && n.endsWith(".tmp"))
      .filter((n) => {
        try {
          return now - statSync(join(this.dir, n)).mtimeMs > olderThanMs;
        } catch {
          return false;
        }
      })
      .map((n) => join(this.dir, n));
  }

  private lastReserved(family: Family): bigint | undefined {
    try {
      const ip = parseIp(readFileSync(join(this.dir, `last_reserved.${family}`), "utf8").trim());
      return ip?.family === family ? ip.value : undefined;
    } catch {
      return undefined;
    }
  }

  /** Only a hint for the next search: written by rename so a reader never sees a torn address. */
  private setLastReserved(family: Family, ip: string): void {
    const tmp = join(this.dir, `.last-${process.pid}-${unique()}.tmp`);
    try {
      writeFileSync(tmp, ip);
      renameSync(tmp, join(this.dir, `last_reserved.${family}`));
    } catch {
      tryUnlink(tmp);
    }
  }
}

function mkdir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw io(`cannot create the lease directory ${dir}`, e);
  }
}

/** A name part no other process uses now (pid) nor this one used before (counter). */
let counter = 0;
function unique(): string {
  return `${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

export function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

function errno(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : undefined;
}

function io(what: string, e: unknown): CniIoError {
  return new CniIoError(what, e instanceof Error ? e.message : String(e), { cause: e });
}
