// Cache of forwarded answers. dcos-net has none (its erldns packet cache was turned off because
// new task names took ~5 s to appear), but that concern is about our own zones, which are never
// cached here: only upstream answers are, and for no longer than the upstream said (TTL), capped.
//
// Entries are the upstream's reply bytes plus the offsets of their TTL fields; a hit copies the
// bytes and patches id, question case, RD and TTLs in place. That keeps the reply byte-for-byte
// what the upstream sent (the forwarder relays verbatim everywhere else too) and avoids a
// decode/encode per hit. It is safe because TTL fields are fixed-width and located by walking the
// RR headers once at insert time (packet.ts); OPT's "TTL" (extended rcode / flags) is skipped.
//
// The one part that is not the upstream's: the OPT record. It belongs to the exchange, not to the
// answer (RFC 6891 §6.1.1: hop by hop), and the query that filled the cache may have had EDNS
// where the query in hand has none, or the other way round. So the upstream's OPT (its payload
// size, its options: a cookie made for another client) is cut out when an entry is stored, and a
// hit gets our own OPT (our payload size, DO echoed) exactly when the query in hand has one
// (RFC 6891 §7: none to a client that sent none); whether it fits is judged on that final size.
import { DEFAULT_ADVERTISED_UDP, FLAG, HEADER_LEN, OPCODE_MASK, RCODE, TYPE } from "../wire/codes.js";
import {
  isTruncated,
  readEdns,
  readHeader,
  readQuestion,
  rcodeOf,
  sameQuestion,
  soaMinimum,
  walkRecords,
} from "./packet.js";

export interface ForwardCacheOptions {
  /** Bound on entries, least recently used evicted first; 0 turns the cache off. Default 10000. */
  maxEntries?: number;
  /** Cap on positive TTLs, seconds. Default 3600. */
  maxTtlS?: number;
  /** Cap on negative (NXDOMAIN / NODATA) TTLs, seconds. Default 300. */
  maxNegativeTtlS?: number;
  /** Milliseconds clock; injectable for tests. */
  now?: () => number;
}

const CACHE_DEFAULTS = { maxEntries: 10_000, maxTtlS: 3600, maxNegativeTtlS: 300 } as const;

interface Entry {
  /** The upstream's reply without its OPT record. */
  readonly reply: Buffer;
  readonly storedAt: number;
  readonly expiresAt: number;
  /** [offset of TTL field, TTL as received]. */
  readonly ttls: ReadonlyArray<readonly [number, number]>;
}

/** RFC 2181 §8: a TTL with the top bit set is treated as zero. */
const MAX_TTL = 0x7fffffff;

/**
 * Cache key of a query: lower-cased qname, qtype, qclass, DO bit, and CD bit (a CD=1 query may
 * be answered with data a validating upstream would refuse to a CD=0 one, so the two must not
 * share entries). Undefined for queries that are not cacheable (not a standard QUERY, not
 * exactly one question, unparseable).
 */
export function cacheKey(query: Buffer): string | undefined {
  try {
    const h = readHeader(query);
    if ((h.flags & OPCODE_MASK) !== 0 || h.qdcount !== 1) return undefined;
    const q = readQuestion(query);
    const edns = readEdns(query);
    return `${q.name}|${q.type}|${q.class}|${edns?.do === true ? 1 : 0}|${(h.flags & FLAG.CD) !== 0 ? 1 : 0}`;
  } catch {
    return undefined;
  }
}

interface TtlLimits {
  maxTtlS: number;
  maxNegativeTtlS: number;
}

/**
 * How long a reply may be cached, in whole seconds, or undefined if it must not be cached:
 * truncated, SERVFAIL or any rcode other than NOERROR/NXDOMAIN, negative without a SOA
 * (RFC 2308 §5: no SOA, no negative caching), or a TTL of 0.
 * Positive: min TTL of the answer RRs, capped at maxTtlS. Negative (NXDOMAIN, or NOERROR with no
 * answers = NODATA): min(SOA TTL, SOA MINIMUM) of the authority SOA (RFC 2308 §5), capped at
 * maxNegativeTtlS; an NXDOMAIN after a CNAME chain also takes the chain's TTLs into account.
 */
export function cacheTtl(reply: Buffer, limits: TtlLimits = CACHE_DEFAULTS): number | undefined {
  let records;
  let h;
  try {
    h = readHeader(reply);
    records = walkRecords(reply);
  } catch {
    return undefined;
  }
  if (isTruncated(h)) return undefined;
  const rcode = rcodeOf(h);
  if (rcode !== RCODE.NOERROR && rcode !== RCODE.NXDOMAIN) return undefined;
  const norm = (ttl: number): number => (ttl > MAX_TTL ? 0 : ttl);
  const answers = records.filter((r) => r.section === "answer");
  const minAnswer = answers.length === 0 ? undefined : Math.min(...answers.map((r) => norm(r.ttl)));
  let ttl: number | undefined;
  if (rcode === RCODE.NOERROR && minAnswer !== undefined) {
    ttl = Math.min(minAnswer, limits.maxTtlS);
  } else {
    const soa = records.find((r) => r.section === "authority" && r.type === TYPE.SOA);
    if (soa === undefined) return undefined;
    let negative: number;
    try {
      negative = Math.min(norm(soa.ttl), norm(soaMinimum(reply, soa)));
    } catch {
      return undefined;
    }
    ttl = Math.min(negative, minAnswer ?? negative, limits.maxNegativeTtlS);
  }
  return ttl > 0 ? ttl : undefined;
}

/** An OPT record with the root owner and no options. */
const OPT_LEN = 11;

type RecordRefs = ReturnType<typeof walkRecords>;

/**
 * A copy of `reply` without its OPT record, with `cut` bytes removed at offset `cutAt`; undefined
 * when the OPT carries an extended rcode (the low 4 bits alone would misstate the answer) or an
 * owner other than the one-byte root name RFC 6891 §6.1.2 requires.
 */
function withoutOpt(reply: Buffer, records: RecordRefs): { reply: Buffer; cutAt: number; cut: number } | undefined {
  const opt = records.find((r) => r.section === "additional" && r.type === TYPE.OPT);
  if (opt === undefined) return { reply: Buffer.from(reply), cutAt: reply.length, cut: 0 };
  if (opt.ttl >>> 24 !== 0) return undefined;
  // type(2) class(2) precede the TTL; the root name is the one 0 byte before them.
  const start = opt.ttlOffset - 5;
  if (reply[start] !== 0) return undefined;
  const end = opt.rdataOffset + opt.rdlength;
  const out = Buffer.concat([reply.subarray(0, start), reply.subarray(end)]);
  out.writeUInt16BE(out.readUInt16BE(10) - 1, 10);
  return { reply: out, cutAt: start, cut: end - start };
}

/** Our OPT at `at`: our payload size, extended rcode 0, version 0, DO as the client asked, no options. */
function writeOwnOpt(buf: Buffer, at: number, dnssecOk: boolean): void {
  buf.writeUInt8(0, at);
  buf.writeUInt16BE(TYPE.OPT, at + 1);
  buf.writeUInt16BE(DEFAULT_ADVERTISED_UDP, at + 3);
  buf.writeUInt32BE(dnssecOk ? FLAG.DO : 0, at + 5);
  buf.writeUInt16BE(0, at + 9);
}

export class ForwardCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly limits: TtlLimits;
  private readonly now: () => number;

  constructor(options: ForwardCacheOptions = {}) {
    this.maxEntries = Math.max(0, options.maxEntries ?? CACHE_DEFAULTS.maxEntries);
    this.limits = {
      maxTtlS: options.maxTtlS ?? CACHE_DEFAULTS.maxTtlS,
      maxNegativeTtlS: options.maxNegativeTtlS ?? CACHE_DEFAULTS.maxNegativeTtlS,
    };
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.maxEntries > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get capacity(): number {
    return this.maxEntries;
  }

  /**
   * The cached reply for `query`, patched for this client (its id, its question spelling, its RD
   * flag, TTLs decremented by the whole seconds spent in the cache), or undefined on a miss.
   * `maxSize` is the client's UDP limit, judged on the reply as sent (our OPT included when this
   * client sent one): an entry learnt over TCP may be too big for it, and then
   * the query is better forwarded (the upstream truncates properly) than served cut.
   */
  get(query: Buffer, maxSize?: number): Buffer | undefined {
    if (!this.enabled) return undefined;
    const key = cacheKey(query);
    if (key === undefined) return undefined;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.now();
    if (now >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    const edns = readEdns(query);
    const size = entry.reply.length + (edns ? OPT_LEN : 0);
    if (maxSize !== undefined && size > maxSize) return undefined;
    // LRU: re-insert to move to the back of the Map's insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);

    const out = Buffer.alloc(size);
    entry.reply.copy(out);
    if (edns) {
      writeOwnOpt(out, entry.reply.length, edns.do);
      out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
    }
    out.writeUInt16BE(query.readUInt16BE(0), 0);
    const qflags = query.readUInt16BE(2);
    out.writeUInt16BE((out.readUInt16BE(2) & ~FLAG.RD) | (qflags & FLAG.RD), 2);
    // Same key => same labels modulo case => same length: copy the client's spelling (0x20).
    const q = readQuestion(query);
    query.copy(out, HEADER_LEN, q.start, q.end);
    const elapsed = Math.max(0, Math.floor((now - entry.storedAt) / 1000));
    for (const [offset, ttl] of entry.ttls) out.writeUInt32BE(Math.max(0, ttl - elapsed), offset);
    return out;
  }

  /** Stores `reply` as the answer to `query` if cacheable (see cacheTtl); returns whether it did. */
  set(query: Buffer, reply: Buffer): boolean {
    if (!this.enabled) return false;
    const key = cacheKey(query);
    // Only the question has to match: the reply's DO/CD echo is up to the upstream.
    if (key === undefined || !sameQuestion(query, reply)) return false;
    const ttl = cacheTtl(reply, this.limits);
    if (ttl === undefined) return false;
    const records = walkRecords(reply);
    const stripped = withoutOpt(reply, records);
    if (stripped === undefined) return false;
    const ttls = records
      .filter((r) => r.type !== TYPE.OPT)
      .map((r) => [r.ttlOffset > stripped.cutAt ? r.ttlOffset - stripped.cut : r.ttlOffset, r.ttl > MAX_TTL ? 0 : r.ttl] as const);
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, { reply: stripped.reply, storedAt: now, expiresAt: now + ttl * 1000, ttls });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    return true;
  }

  clear(): void {
    this.entries.clear();
  }
}
