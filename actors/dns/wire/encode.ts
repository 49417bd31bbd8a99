// Response encoding with the size rules of Mesos-DNS and RFC 2181 §9: over the limit, additional
// records go first (the OPT stays), then answers from the end, found by binary search; TC is set
// whenever an answer (or authority) record was dropped, so the client retries over TCP.
import type { Answer } from "dns-packet";
import { classCode, DEFAULT_ADVERTISED_UDP, FLAG, HEADER_LEN, rrTypeCode } from "./codes.js";
import type { ParsedQuery, ResponsePacket, DnsTransport } from "./types.js";
import { MessageWriter, recordBound, writeOpt, writeRecord, type OptSpec } from "./writer.js";

export interface EncodeOptions {
  readonly transport: DnsTransport;
  readonly query: ParsedQuery;
  /** Mesos-DNS compatibility: never send an OPT record. */
  readonly noOpt?: boolean;
  /** Upper clamp for the client's EDNS UDP size (default 4096). */
  readonly maxUdp?: number;
  /** The UDP payload size we advertise in our OPT (default 1232). */
  readonly advertiseUdp?: number;
}

const CLASSIC_UDP = 512;
const TCP_MAX = 65535;

/** The largest reply the client can take: TCP 65535; UDP its EDNS size clamped to [512, maxUdp], else 512. */
export function sizeLimit(opts: Pick<EncodeOptions, "transport" | "query" | "maxUdp">): number {
  if (opts.transport === "tcp") return TCP_MAX;
  const size = opts.query.edns?.udpSize;
  if (size === undefined) return CLASSIC_UDP;
  return Math.max(CLASSIC_UDP, Math.min(size, opts.maxUdp ?? 4096));
}

interface Sections {
  readonly answers: readonly Answer[];
  readonly authorities: readonly Answer[];
  readonly additionals: readonly Answer[];
  readonly tc: boolean;
}

function render(p: ResponsePacket, s: Sections, opt: OptSpec | undefined): Buffer {
  const q = p.questions;
  let bound = HEADER_LEN + (opt ? 11 : 0);
  for (const x of q) bound += x.name.length * 3 + 6;
  for (const list of [s.answers, s.authorities, s.additionals]) for (const a of list) bound += recordBound(a);
  const w = new MessageWriter(bound);
  const flags = FLAG.QR | (p.flags & ~FLAG.QR & ~FLAG.TC) | (s.tc ? FLAG.TC : 0);
  w.u16(p.id);
  w.u16(flags);
  w.u16(q.length);
  w.u16(s.answers.length);
  w.u16(s.authorities.length);
  w.u16(s.additionals.length + (opt ? 1 : 0));
  for (const x of q) {
    w.name(x.name, true);
    w.u16(rrTypeCode(x.type) ?? 0);
    w.u16(classCode(x.class) ?? 0);
  }
  for (const list of [s.answers, s.authorities, s.additionals]) for (const a of list) writeRecord(w, a);
  if (opt) writeOpt(w, opt);
  return w.finish();
}

/**
 * The longest prefix length n in [0, hi) whose rendering fits, with that rendering; binary search,
 * since the size grows with n. Undefined when not even n = 0 fits.
 */
function longestFitting(hi: number, renderN: (n: number) => Buffer, limit: number): Buffer | undefined {
  let best: Buffer | undefined;
  let lo = -1;
  let top = hi;
  while (top - lo > 1) {
    const mid = (lo + top) >>> 1;
    const out = renderN(mid);
    if (out.length <= limit) {
      lo = mid;
      best = out;
    } else {
      top = mid;
    }
  }
  return best;
}

/** Encodes `packet` for the client that sent `query`, truncated to what it can receive. */
export function encodeResponse(packet: ResponsePacket, opts: EncodeOptions): Buffer {
  const limit = sizeLimit(opts);
  const edns = opts.query.edns;
  // The OPT is ours to write: any OPT already in the packet is replaced (RFC 6891: at most one).
  const opt: OptSpec | undefined =
    edns && !opts.noOpt ? { udpSize: opts.advertiseUdp ?? DEFAULT_ADVERTISED_UDP, extendedRcode: 0, version: 0, flags: edns.do ? FLAG.DO : 0 } : undefined;
  const full: Sections = { answers: packet.answers, authorities: packet.authorities, additionals: packet.additionals.filter((a) => a.type !== "OPT"), tc: false };
  const whole = render(packet, full, opt);
  if (whole.length <= limit) return whole;
  const lean = render(packet, { ...full, additionals: [] }, opt);
  if (lean.length <= limit) return lean;
  const cut = (authorities: readonly Answer[]) => (n: number): Buffer =>
    render(packet, { answers: packet.answers.slice(0, n), authorities, additionals: [], tc: true }, opt);
  const n = packet.answers.length;
  // Keep the authority (SOA of a NODATA) if any answers fit with it; else drop it too.
  return longestFitting(n, cut(packet.authorities), limit) ?? longestFitting(n + 1, cut([]), limit) ?? cut([])(0);
}
