// A DNS message writer with name compression. dns-packet 5.6.1 never compresses (its name.encode
// writes every label of every name), which makes each A record of a 40-byte name 56 bytes instead
// of 16: 128 such records need ~7.2 kB instead of ~2.1 kB, i.e. they no longer fit a 4096-byte
// EDNS buffer, and only 8 instead of 28 fit the 512-byte classic UDP limit (measured in
// encode.test.ts). Mesos-DNS always compresses, so we write responses here and keep dns-packet
// for the record shapes and as the independent decoder in tests.
import dnsPacket, { type Answer, type SoaAnswer, type SrvAnswer, type StringAnswer } from "dns-packet";
import { classCode, CLASS_IN, MAX_LABEL, rrTypeCode } from "./codes.js";
import { labelBytes, labelStarts } from "./names.js";

// Pointers are 14 bits: a name written past this offset cannot be pointed to.
const MAX_POINTER_TARGET = 0x3fff;

function isPlainAscii(label: string): boolean {
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c > 0x7f || c === 0x5c) return false;
  }
  return true;
}

export class MessageWriter {
  readonly #buf: Buffer;
  #pos = 0;
  /** Exact (case-sensitive) presentation suffix → offset; case-sensitive so no name changes case. */
  readonly #names = new Map<string, number>();

  constructor(capacity: number) {
    this.#buf = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.#pos;
  }

  u8(v: number): void {
    this.#buf[this.#pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.#buf.writeUInt16BE(v & 0xffff, this.#pos);
    this.#pos += 2;
  }

  u32(v: number): void {
    this.#buf.writeUInt32BE(v >>> 0, this.#pos);
    this.#pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** Writes a presentation name; `compress` false still lets later names point into it. */
  name(name: string, compress: boolean): void {
    const n = name.length > 1 && name.endsWith(".") && !name.endsWith("\\.") ? name.slice(0, -1) : name;
    const starts = labelStarts(n);
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i] ?? 0;
      const suffix = start === 0 ? n : n.slice(start);
      const seen = compress ? this.#names.get(suffix) : undefined;
      if (seen !== undefined) {
        this.u16(0xc000 | seen);
        return;
      }
      if (this.#pos <= MAX_POINTER_TARGET && !this.#names.has(suffix)) this.#names.set(suffix, this.#pos);
      const end = i + 1 < starts.length ? (starts[i + 1] ?? n.length) - 1 : n.length;
      this.#label(n.slice(start, end));
    }
    this.u8(0);
  }

  #label(label: string): void {
    // ASCII labels (all zone data) are copied by a char loop: cheaper than a native utf8 write.
    if (isPlainAscii(label)) {
      this.#lengthByte(label.length, label);
      for (let i = 0; i < label.length; i++) this.#buf[this.#pos++] = label.charCodeAt(i);
      return;
    }
    const bytes = label.includes("\\") ? labelBytes(label) : Buffer.from(label, "utf8");
    this.#lengthByte(bytes.length, label);
    this.bytes(bytes);
  }

  #lengthByte(len: number, label: string): void {
    if (len === 0 || len > MAX_LABEL) throw new RangeError(`label of ${len} bytes cannot be encoded: ${JSON.stringify(label)}`);
    this.u8(len);
  }

  /** Reserves the RDLENGTH field; call the returned function after writing the RDATA. */
  rdata(): () => void {
    const at = this.#pos;
    this.#pos += 2;
    return () => this.#buf.writeUInt16BE(this.#pos - at - 2, at);
  }

  finish(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }
}

/** Dotted quad → 4 bytes; a char loop because this runs for every A record of every miss. */
function ipv4Bytes(s: string): number[] | undefined {
  const out = [0, 0, 0, 0];
  let part = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return undefined;
      part++;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      const v = (out[part] ?? 0) * 10 + (c - 0x30);
      if (v > 255 || part > 3) return undefined;
      out[part] = v;
      digits++;
    } else {
      return undefined;
    }
  }
  return part === 4 ? out : undefined;
}

function ipv6Bytes(s: string): number[] | undefined {
  let text = s;
  let v4: number[] = [];
  if (s.includes(".")) {
    const cut = s.lastIndexOf(":") + 1;
    const tail = ipv4Bytes(s.slice(cut));
    if (!tail) return undefined;
    v4 = tail;
    text = `${s.slice(0, cut)}0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const groups = [...head, ...new Array<string>(halves.length === 2 ? fill : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const out = groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
  if (v4.length === 4) out.splice(12, 4, ...v4);
  return out;
}

function address(type: "A" | "AAAA", text: string): number[] {
  const b = type === "A" ? ipv4Bytes(text) : ipv6Bytes(text);
  if (!b) throw new RangeError(`${JSON.stringify(text)} is not an ${type === "A" ? "IPv4" : "IPv6"} address`);
  return b;
}

// DNAME is a StringAnswer too but is excluded by the guard: RFC 6672 forbids compressing its target.
type ServedAnswer = StringAnswer | SoaAnswer | SrvAnswer;
const SERVED: ReadonlySet<string> = new Set(["A", "AAAA", "CNAME", "NS", "PTR", "SOA", "SRV"]);
const isServed = (a: Answer): a is ServedAnswer => SERVED.has(a.type);

/** RDATA of the types we serve; names are compressed only where RFC 3597 §4 allows it (not SRV). */
function writeRdata(w: MessageWriter, a: ServedAnswer): void {
  switch (a.type) {
    case "A":
    case "AAAA":
      for (const b of address(a.type, a.data)) w.u8(b);
      return;
    case "CNAME":
    case "NS":
    case "PTR":
      w.name(a.data, true);
      return;
    case "SOA":
      w.name(a.data.mname, true);
      w.name(a.data.rname, true);
      w.u32(a.data.serial ?? 0);
      w.u32(a.data.refresh ?? 0);
      w.u32(a.data.retry ?? 0);
      w.u32(a.data.expire ?? 0);
      w.u32(a.data.minimum ?? 0);
      return;
    case "SRV":
      w.u16(a.data.priority ?? 0);
      w.u16(a.data.weight ?? 0);
      w.u16(a.data.port);
      w.name(a.data.target, false);
      return;
  }
}

/** One resource record (not OPT). Types we do not serve fall back to dns-packet, uncompressed. */
export function writeRecord(w: MessageWriter, a: Answer): void {
  if (a.type === "OPT") throw new RangeError("OPT records are written by writeOpt");
  if (!isServed(a)) {
    w.bytes(dnsPacket.encode({ type: "response", answers: [a] }).subarray(12));
    return;
  }
  w.name(a.name, true);
  w.u16(rrTypeCode(a.type) ?? 0);
  w.u16(classCode(a.class ?? "IN") ?? CLASS_IN);
  w.u32(a.ttl ?? 0);
  const done = w.rdata();
  writeRdata(w, a);
  done();
}

export interface OptSpec {
  readonly udpSize: number;
  /** The upper 8 bits of a 12-bit RCODE (BADVERS = 16 → 1). */
  readonly extendedRcode: number;
  readonly version: number;
  readonly flags: number;
}

export function writeOpt(w: MessageWriter, opt: OptSpec): void {
  w.u8(0);
  w.u16(41);
  w.u16(opt.udpSize);
  w.u8(opt.extendedRcode);
  w.u8(opt.version);
  w.u16(opt.flags);
  w.u16(0);
}

const nameBound = (n: string): number => n.length * 3 + 2;

/**
 * An upper bound of a record's uncompressed wire size, to size the writer's buffer. A UTF-16 unit
 * is at most 3 UTF-8 bytes and an escape is longer than the byte it stands for, so 3 × length + 2
 * bounds every name without measuring it.
 */
export function recordBound(a: Answer): number {
  switch (a.type) {
    case "A":
    case "AAAA":
      return nameBound(a.name) + 10 + 16;
    case "CNAME":
    case "NS":
    case "PTR":
      return nameBound(a.name) + 10 + nameBound(a.data);
    case "SOA":
      return nameBound(a.name) + 10 + nameBound(a.data.mname) + nameBound(a.data.rname) + 20;
    case "SRV":
      return nameBound(a.name) + 10 + 6 + nameBound(a.data.target);
    case "OPT":
      return 11;
    default:
      return dnsPacket.encodingLength({ answers: [a] });
  }
}
