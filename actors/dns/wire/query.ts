// Query parsing for untrusted datagrams. Every count, length and pointer is checked against the
// buffer before it is used, so a hostile packet costs at most one bounded walk and never an
// exception; dns-packet's decoder is not used here (see README for why).
import { classCode, className, DEFAULT_ADVERTISED_UDP, FLAG, HEADER_LEN, OPCODE_MASK, RCODE, TYPE, rrTypeCode, rrTypeName } from "./codes.js";
import { readName } from "./names.js";
import type { EdnsInfo, ErrorRcode, ParsedQuery, ParseResult, QueryRejection, TsigEcho, WireQuestion } from "./types.js";
import { MessageWriter, writeOpt, type OptSpec } from "./writer.js";

// Smallest question (root name, type, class) and smallest resource record (root name + 10).
const MIN_QUESTION = 5;
const MIN_RR = 11;
const IXFR = 251;

const formerr = (id: number, reason: string): QueryRejection => ({ ok: false, reason, id, formerr: true, rcode: "FORMERR" });

type Additional = { readonly next: number; readonly edns?: EdnsInfo; readonly tsig?: TsigEcho } | { readonly problem: string };

/** TSIG error "bad key" (RFC 8945 §5.2.1): the key is not known here. */
const TSIG_BADKEY = 17;

function readOptions(buf: Buffer, from: number, to: number): string | undefined {
  for (let p = from; p < to; ) {
    if (p + 4 > to) return "EDNS option header cut off";
    p += 4 + buf.readUInt16BE(p + 2);
    if (p > to) return "EDNS option runs past the OPT record";
  }
  return undefined;
}

/** Offset just past the resource record at `pos`, or the problem; its content is not read. */
function skipRecord(buf: Buffer, pos: number, what: string): { readonly next: number } | { readonly problem: string } {
  const owner = readName(buf, pos, buf.length);
  if ("problem" in owner) return { problem: `${what} record name: ${owner.problem}` };
  const at = owner.next;
  if (at + 10 > buf.length) return { problem: `${what} record cut off` };
  const end = at + 10 + buf.readUInt16BE(at + 8);
  if (end > buf.length) return { problem: `${what} record data runs past the end` };
  return { next: end };
}

/** The TSIG record's fields an error reply echoes; its MAC is not checked (no keys are configured). */
function readTsig(buf: Buffer, owner: string, from: number, to: number): { readonly tsig: TsigEcho } | { readonly problem: string } {
  const alg = readName(buf, from, to);
  if ("problem" in alg) return { problem: `TSIG algorithm name: ${alg.problem}` };
  let p = alg.next;
  if (p + 10 > to) return { problem: "TSIG record cut off" };
  const timeHigh = buf.readUInt16BE(p);
  const timeLow = buf.readUInt32BE(p + 2);
  const fudge = buf.readUInt16BE(p + 6);
  p += 10 + buf.readUInt16BE(p + 8);
  if (p + 6 > to) return { problem: "TSIG record cut off after its MAC" };
  const originalId = buf.readUInt16BE(p);
  if (p + 6 + buf.readUInt16BE(p + 4) !== to) return { problem: "TSIG other data does not end the record" };
  return { tsig: { keyName: owner, algorithm: alg.name, timeHigh, timeLow, fudge, originalId } };
}

/**
 * One additional record: OPT is understood, TSIG read for its reply (it must be the last record,
 * RFC 8945 §5.1), others skipped.
 */
function readAdditional(buf: Buffer, pos: number, last: boolean): Additional {
  const owner = readName(buf, pos, buf.length);
  if ("problem" in owner) return { problem: `additional record name: ${owner.problem}` };
  const at = owner.next;
  if (at + 10 > buf.length) return { problem: "additional record cut off" };
  const end = at + 10 + buf.readUInt16BE(at + 8);
  if (end > buf.length) return { problem: "additional record data runs past the end" };
  if (buf.readUInt16BE(at) === TYPE.TSIG) {
    if (!last) return { problem: "TSIG record is not the last one" };
    const t = readTsig(buf, owner.name, at + 10, end);
    return "problem" in t ? t : { next: end, tsig: t.tsig };
  }
  if (buf.readUInt16BE(at) !== TYPE.OPT) return { next: end };
  if (owner.name !== ".") return { problem: "OPT record owner is not the root" };
  const bad = readOptions(buf, at + 10, end);
  if (bad !== undefined) return { problem: bad };
  const ttl = buf.readUInt32BE(at + 4);
  return { next: end, edns: { udpSize: buf.readUInt16BE(at + 2), do: (ttl & FLAG.DO) !== 0, version: (ttl >>> 16) & 0xff } };
}

/** Header checks that need no walking; returns the rejection or undefined when the counts are sane. */
function checkHeader(buf: Buffer, id: number): QueryRejection | undefined {
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  if (HEADER_LEN + qd * MIN_QUESTION + (an + ns + ar) * MIN_RR > buf.length) {
    return formerr(id, `counts (qd ${qd}, an ${an}, ns ${ns}, ar ${ar}) need more than the ${buf.length} bytes sent`);
  }
  if (qd !== 1) return formerr(id, `question count ${qd}, expected 1`);
  if (an !== 0) return formerr(id, `answer count ${an} in a query`);
  // One authority record is allowed here and checked against the question type in parseQuery:
  // an IXFR query carries the client's SOA there (RFC 1995 §3).
  if (ns > 1) return formerr(id, `authority count ${ns} in a query`);
  if (ar > 2) return formerr(id, `additional count ${ar}, expected at most 2 (OPT, TSIG)`);
  return undefined;
}

export function parseQuery(buf: Buffer): ParseResult {
  if (buf.length < HEADER_LEN) return { ok: false, reason: `${buf.length} bytes is shorter than a DNS header`, formerr: false };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & FLAG.QR) return { ok: false, reason: "a response, not a query", id, formerr: false };
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return { ok: false, reason: `opcode ${opcode} is not implemented`, id, formerr: false, rcode: "NOTIMP" };
  const bad = checkHeader(buf, id);
  if (bad) return bad;
  const qname = readName(buf, HEADER_LEN, buf.length);
  if ("problem" in qname) return formerr(id, `question name: ${qname.problem}`);
  if (qname.next + 4 > buf.length) return formerr(id, "question type and class cut off");
  const qtype = buf.readUInt16BE(qname.next);
  if (qtype === TYPE.OPT) return formerr(id, "question type OPT");
  let pos = qname.next + 4;
  if (buf.readUInt16BE(8) === 1) {
    // Only IXFR may carry one; it is skipped, not read, because IXFR is REFUSED like AXFR
    // (answer.ts) and a FORMERR here would answer it before that decision is made.
    if (qtype !== IXFR) return formerr(id, "authority count 1 in a query");
    const auth = skipRecord(buf, pos, "authority");
    if ("problem" in auth) return formerr(id, auth.problem);
    pos = auth.next;
  }
  let edns: EdnsInfo | undefined;
  let tsig: TsigEcho | undefined;
  const ar = buf.readUInt16BE(10);
  for (let i = 0; i < ar; i++) {
    const add = readAdditional(buf, pos, i === ar - 1);
    if ("problem" in add) return formerr(id, add.problem);
    if (add.edns && edns) return formerr(id, "two OPT records");
    pos = add.next;
    edns = add.edns ?? edns;
    tsig = add.tsig ?? tsig;
  }
  if (ar === 2 && !tsig) return formerr(id, "additional count 2 without a TSIG record");
  if (pos !== buf.length) return formerr(id, `${buf.length - pos} bytes after the last record`);
  // No TSIG keys are configured: a signed query gets NOTAUTH with a TSIG record saying BADKEY (RFC
  // 8945 §5.2.1, as NSD answers), never an unsigned answer the client would have to reject.
  if (tsig) return { ok: false, reason: `TSIG key ${tsig.keyName} is not known here`, id, formerr: false, rcode: "NOTAUTH", tsig, ...(edns ? { edns } : {}) };
  if (edns && edns.version > 0) return { ok: false, reason: `EDNS version ${edns.version} is not supported`, id, formerr: false, rcode: "BADVERS" };
  const question: WireQuestion = { name: qname.name, type: rrTypeName(qtype), class: className(buf.readUInt16BE(qname.next + 2)) };
  const query: ParsedQuery = { id, rd: (flags & FLAG.RD) !== 0, cd: (flags & FLAG.CD) !== 0, opcode, question, ...(edns ? { edns } : {}) };
  return { ok: true, query };
}

interface ErrorShape {
  readonly id: number;
  readonly flags: number;
  readonly question?: { readonly name: string; readonly type: number; readonly klass: number };
  readonly opt?: OptSpec;
  readonly tsig?: TsigEcho;
}

const CLASS_ANY = 255;

function writeError(e: ErrorShape): Buffer {
  const w = new MessageWriter(HEADER_LEN + 4 * 255 + 4 + 11 + 30);
  for (const v of [e.id, FLAG.QR | e.flags, e.question ? 1 : 0, 0, 0, (e.opt ? 1 : 0) + (e.tsig ? 1 : 0)]) w.u16(v);
  if (e.question) {
    w.name(e.question.name, false);
    w.u16(e.question.type);
    w.u16(e.question.klass);
  }
  if (e.opt) writeOpt(w, e.opt);
  if (e.tsig) {
    // Unsigned (MAC size 0): without the key there is nothing to sign with (RFC 8945 §5.2.1).
    w.name(e.tsig.keyName, false);
    w.u16(TYPE.TSIG);
    w.u16(CLASS_ANY);
    w.u32(0);
    const done = w.rdata();
    w.name(e.tsig.algorithm, false);
    w.u16(e.tsig.timeHigh);
    w.u32(e.tsig.timeLow);
    w.u16(e.tsig.fudge);
    w.u16(0);
    w.u16(e.tsig.originalId);
    w.u16(TSIG_BADKEY);
    w.u16(0);
    done();
  }
  return Buffer.from(w.finish());
}

function optFor(rcode: ErrorRcode, edns: EdnsInfo | undefined): OptSpec | undefined {
  if (!edns && rcode !== "BADVERS") return undefined;
  return { udpSize: DEFAULT_ADVERTISED_UDP, extendedRcode: RCODE[rcode] >> 4, version: 0, flags: edns?.do ? FLAG.DO : 0 };
}

function fromQuery(q: ParsedQuery, rcode: ErrorRcode, ra: boolean): Buffer {
  const flags = (q.rd ? FLAG.RD : 0) | (q.cd ? FLAG.CD : 0) | (ra ? FLAG.RA : 0) | (RCODE[rcode] & 0xf);
  const question = { name: q.question.name, type: rrTypeCode(q.question.type) ?? 0, klass: classCode(q.question.class) ?? 0 };
  const opt = optFor(rcode, q.edns);
  return writeError({ id: q.id, flags, question, ...(opt ? { opt } : {}) });
}

function fromHeader(buf: Buffer, rcode: ErrorRcode, ra: boolean, rejection?: QueryRejection): Buffer {
  const flags = (buf.readUInt16BE(2) & (OPCODE_MASK | FLAG.RD | FLAG.CD)) | (ra ? FLAG.RA : 0) | (RCODE[rcode] & 0xf);
  let question: ErrorShape["question"];
  if (buf.readUInt16BE(4) === 1) {
    const n = readName(buf, HEADER_LEN, buf.length);
    if (!("problem" in n) && n.next + 4 <= buf.length) question = { name: n.name, type: buf.readUInt16BE(n.next), klass: buf.readUInt16BE(n.next + 2) };
  }
  const opt = optFor(rcode, rejection?.rcode ? rejection.edns : undefined);
  const tsig = rejection?.rcode ? rejection.tsig : undefined;
  return writeError({ id: buf.readUInt16BE(0), flags, ...(question ? { question } : {}), ...(opt ? { opt } : {}), ...(tsig ? { tsig } : {}) });
}

interface ErrorResponseOptions {
  /** RA in the reply; false by default: only a node with forwarding configured recurses (README "RA"). */
  readonly recursionAvailable?: boolean;
}

/**
 * A minimal reply with `rcode` (or the rcode of a parse rejection) that echoes the id, opcode, RD
 * and CD and, when it parses, the question. Undefined when there is nothing to answer: a message
 * shorter than a header, a response, or a rejection that says drop.
 */
export function errorResponse(source: Buffer | ParsedQuery, how: ErrorRcode | QueryRejection, opts: ErrorResponseOptions = {}): Buffer | undefined {
  const rcode = typeof how === "string" ? how : how.rcode;
  if (rcode === undefined) return undefined;
  const ra = opts.recursionAvailable ?? false;
  if (!Buffer.isBuffer(source)) return fromQuery(source, rcode, ra);
  const parsed = parseQuery(source);
  if (parsed.ok) return fromQuery(parsed.query, rcode, ra);
  if (source.length < HEADER_LEN || source.readUInt16BE(2) & FLAG.QR) return undefined;
  return fromHeader(source, rcode, ra, parsed);
}
