// Shapes shared by the wire modules: what a parsed query looks like, what a parse rejection says,
// and the response packet the answer path hands to the encoder.
import type { Answer } from "dns-packet";

/** How a client asked, and so how a forwarded query goes upstream: the one name for it across DNS. */
export type DnsTransport = "udp" | "tcp";

/** A question as it travels on the wire; names are in presentation form without the trailing dot. */
export interface WireQuestion {
  /**
   * As sent (case kept). Bytes outside printable ASCII, "." and "\" inside a label are escaped
   * (`\DDD`, `\.`, `\\`) so that a label containing a dot can never be confused with two labels.
   * The root name is ".".
   */
  readonly name: string;
  /** dns-packet's type name ("A", "SRV", "ANY") or "UNKNOWN_<n>". */
  readonly type: string;
  /** "IN", "CH", "ANY", … or "UNKNOWN_<n>". */
  readonly class: string;
}

export interface EdnsInfo {
  /** The requestor's UDP payload size as sent (not clamped). */
  readonly udpSize: number;
  readonly do: boolean;
  readonly version: number;
}

export interface ParsedQuery {
  readonly id: number;
  readonly rd: boolean;
  readonly cd: boolean;
  readonly opcode: number;
  readonly question: WireQuestion;
  readonly edns?: EdnsInfo;
}

/** RCODEs the wire layer can answer a bad or unanswerable query with. */
export type ErrorRcode = "FORMERR" | "SERVFAIL" | "NOTIMP" | "REFUSED" | "NOTAUTH" | "BADVERS";

/** What an error reply to a TSIG-signed query echoes (RFC 8945 §5.2.1: NOTAUTH, TSIG error BADKEY). */
export interface TsigEcho {
  readonly keyName: string;
  readonly algorithm: string;
  /** Time signed: 48 bits as high 16 and low 32. */
  readonly timeHigh: number;
  readonly timeLow: number;
  readonly fudge: number;
  readonly originalId: number;
}

/** Not worth a reply: too short to carry an id, or a response (answering those invites loops). */
export interface QueryDrop {
  readonly ok: false;
  readonly reason: string;
  readonly id?: number;
  readonly formerr: false;
  readonly rcode?: undefined;
}

/** Answer with an error RCODE. `formerr` is true exactly when `rcode` is FORMERR. */
export interface QueryError {
  readonly ok: false;
  readonly reason: string;
  readonly id: number;
  readonly formerr: boolean;
  readonly rcode: ErrorRcode;
  /** A TSIG-signed query this node has no key for: the reply carries a TSIG record with BADKEY. */
  readonly tsig?: TsigEcho;
  /** The query's EDNS, when the reply should carry an OPT of its own. */
  readonly edns?: EdnsInfo;
}

export type QueryRejection = QueryDrop | QueryError;

export type ParseResult = { readonly ok: true; readonly query: ParsedQuery } | QueryRejection;

/**
 * A response before encoding. Like dns-packet's `Packet`, but the question keeps type/class names
 * dns-packet cannot encode ("UNKNOWN_n"), and `flags` carries the 4-bit RCODE in its low bits
 * (QR is implied: only responses are built here).
 */
export interface ResponsePacket {
  readonly type: "response";
  readonly id: number;
  readonly flags: number;
  readonly questions: readonly WireQuestion[];
  readonly answers: readonly Answer[];
  readonly authorities: readonly Answer[];
  readonly additionals: readonly Answer[];
}
