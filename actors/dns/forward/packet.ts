// Minimal DNS wire walking for the forwarder. Forwarded replies are relayed verbatim (as dcos-net
// does), so instead of a full decode/encode with dns-packet (which would normalise, reorder and
// cost an allocation per record) we only walk the header, the question and the RR headers: that
// is enough to check a reply belongs to our query, to find TTL fields to patch in a cached copy,
// and to read the SOA minimum for negative caching. Everything here bounds-checks and throws
// PacketError on malformed input; callers treat that as "not a usable packet". Codes and our own
// error replies come from the wire layer (../wire/), so both halves of the server agree on them.
import { FLAG, HEADER_LEN, OPCODE_MASK, RCODE, TYPE } from "../wire/codes.js";
import { errorResponse, type ErrorRcode } from "../wire/index.js";
import { PacketError } from "../errors.js";

export { PacketError };

interface Header {
  id: number;
  flags: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export function readHeader(buf: Buffer): Header {
  if (buf.length < HEADER_LEN) throw new PacketError(`packet shorter than a header (${buf.length} bytes)`);
  return {
    id: buf.readUInt16BE(0),
    flags: buf.readUInt16BE(2),
    qdcount: buf.readUInt16BE(4),
    ancount: buf.readUInt16BE(6),
    nscount: buf.readUInt16BE(8),
    arcount: buf.readUInt16BE(10),
  };
}

export const isResponse = (h: Header): boolean => (h.flags & FLAG.QR) !== 0;
export const isTruncated = (h: Header): boolean => (h.flags & FLAG.TC) !== 0;
export const rcodeOf = (h: Header): number => h.flags & 0x000f;

// Not ../wire/names.ts readName: that follows pointers and builds the name's text (~18x the cost of a reply walk, measured); this only steps over a pointer, so it is bounded and loop-free as is.
/** Offset just past the (possibly compressed) name starting at `off`. */
function skipName(buf: Buffer, off: number): number {
  let p = off;
  for (;;) {
    if (p >= buf.length) throw new PacketError("name runs past the end of the packet");
    const len = buf[p] as number;
    if (len === 0) return p + 1;
    if ((len & 0xc0) === 0xc0) {
      if (p + 2 > buf.length) throw new PacketError("truncated compression pointer");
      return p + 2;
    }
    if ((len & 0xc0) !== 0) throw new PacketError("unsupported label type");
    p += 1 + len;
  }
}

interface Question {
  /** Lower-case, dotted, no trailing dot ("" for the root); '.' and '\' inside a label are escaped. */
  name: string;
  type: number;
  class: number;
  /** Byte range of the whole question entry (name + type + class), for echoing and comparing. */
  start: number;
  end: number;
}

/**
 * The first question. Its name is never compressed in practice (nothing precedes it that a
 * pointer could usefully target), so pointers are rejected here rather than followed.
 */
export function readQuestion(buf: Buffer): Question {
  const h = readHeader(buf);
  if (h.qdcount < 1) throw new PacketError("no question");
  const labels: string[] = [];
  let p = HEADER_LEN;
  for (;;) {
    if (p >= buf.length) throw new PacketError("question name runs past the end of the packet");
    const len = buf[p] as number;
    if (len === 0) {
      p += 1;
      break;
    }
    if ((len & 0xc0) !== 0) throw new PacketError("compressed or extended label in the question");
    if (p + 1 + len > buf.length) throw new PacketError("question label runs past the end of the packet");
    labels.push(buf.toString("latin1", p + 1, p + 1 + len).toLowerCase().replace(/[.\\]/g, (c) => `\\${c}`));
    p += 1 + len;
  }
  if (p + 4 > buf.length) throw new PacketError("question type/class missing");
  return { name: labels.join("."), type: buf.readUInt16BE(p), class: buf.readUInt16BE(p + 2), start: HEADER_LEN, end: p + 4 };
}

/** True when both packets carry the same first question (name compared ASCII case-insensitively). */
export function sameQuestion(a: Buffer, b: Buffer): boolean {
  let qa: Question;
  let qb: Question;
  try {
    qa = readQuestion(a);
    qb = readQuestion(b);
  } catch {
    return false;
  }
  if (qa.end - qa.start !== qb.end - qb.start) return false;
  for (let i = 0; i < qa.end - qa.start; i++) {
    if (lowerAscii(a[qa.start + i] as number) !== lowerAscii(b[qb.start + i] as number)) return false;
  }
  return true;
}

const lowerAscii = (c: number): number => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);

type Section = "answer" | "authority" | "additional";

interface RecordRef {
  section: Section;
  type: number;
  class: number;
  ttl: number;
  /** Offset of the 32-bit TTL field, for patching a copy in place. */
  ttlOffset: number;
  rdataOffset: number;
  rdlength: number;
}

/** Every resource record after the question section, in wire order. */
export function walkRecords(buf: Buffer): RecordRef[] {
  const h = readHeader(buf);
  let p = HEADER_LEN;
  for (let i = 0; i < h.qdcount; i++) {
    p = skipName(buf, p) + 4;
    if (p > buf.length) throw new PacketError("question runs past the end of the packet");
  }
  const out: RecordRef[] = [];
  const sections: Array<[Section, number]> = [
    ["answer", h.ancount],
    ["authority", h.nscount],
    ["additional", h.arcount],
  ];
  for (const [section, count] of sections) {
    for (let i = 0; i < count; i++) {
      p = skipName(buf, p);
      if (p + 10 > buf.length) throw new PacketError("record header runs past the end of the packet");
      const rdlength = buf.readUInt16BE(p + 8);
      const rdataOffset = p + 10;
      if (rdataOffset + rdlength > buf.length) throw new PacketError("record data runs past the end of the packet");
      out.push({ section, type: buf.readUInt16BE(p), class: buf.readUInt16BE(p + 2), ttl: buf.readUInt32BE(p + 4), ttlOffset: p + 4, rdataOffset, rdlength });
      p = rdataOffset + rdlength;
    }
  }
  return out;
}

interface Edns {
  udpPayloadSize: number;
  /** DNSSEC OK: the top bit of the OPT "TTL" flags half. */
  do: boolean;
}

/** The OPT pseudo-record of a packet, if any. */
export function readEdns(buf: Buffer, records: readonly RecordRef[] = walkRecords(buf)): Edns | undefined {
  const opt = records.find((r) => r.section === "additional" && r.type === TYPE.OPT);
  if (opt === undefined) return undefined;
  return { udpPayloadSize: opt.class, do: (opt.ttl & FLAG.DO) !== 0 };
}

/** SOA MINIMUM is the last 32 bits of SOA RDATA, whatever the (compressed) MNAME/RNAME lengths. */
export function soaMinimum(buf: Buffer, soa: RecordRef): number {
  if (soa.type !== TYPE.SOA || soa.rdlength < 22) throw new PacketError("not a SOA record");
  return buf.readUInt32BE(soa.rdataOffset + soa.rdlength - 4);
}

/**
 * Our own reply to a client query: wire's errorResponse (id, opcode, RD, CD and the question
 * echoed, QR set, RA as `recursionAvailable` says, no records, our OPT when the client sent one with DO copied). The forwarder
 * is only given queries parseQuery accepted (../serve.ts), and for those it is the reply this
 * module used to build itself, byte for byte. errorResponse declines a message shorter than a
 * header or with QR set (the wire layer drops them); the forwarder promises a reply for any
 * buffer, so those get a bare header echoing the id and flags as far as they were sent.
 */
export function errorReply(query: Buffer, rcode: ErrorRcode, recursionAvailable: boolean): Buffer {
  const reply = errorResponse(query, rcode, { recursionAvailable });
  if (reply !== undefined) return reply;
  const header = Buffer.alloc(HEADER_LEN);
  if (query.length >= 2) header.writeUInt16BE(query.readUInt16BE(0), 0);
  const qflags = query.length >= 4 ? query.readUInt16BE(2) : 0;
  header.writeUInt16BE(FLAG.QR | (qflags & (OPCODE_MASK | FLAG.RD | FLAG.CD)) | (recursionAvailable ? FLAG.RA : 0) | (RCODE[rcode] & 0x0f), 2);
  return header;
}

/** The largest UDP reply this query's sender accepts (RFC 6891: OPT payload size, floor 512). */
export function udpLimit(query: Buffer): number {
  try {
    const edns = readEdns(query);
    return Math.max(512, edns?.udpPayloadSize ?? 512);
  } catch {
    return 512;
  }
}
