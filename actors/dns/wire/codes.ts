// Numeric DNS codes and dns-packet's names for them. The names copy dns-packet's tables
// (types.js, classes.js) so a question type reads the same here as in a dns-packet decode, but
// unknown codes round-trip as "UNKNOWN_<n>" — dns-packet would encode an unknown class as 0.

const TYPES: ReadonlyArray<readonly [string, number]> = [
  ["A", 1], ["NS", 2], ["CNAME", 5], ["SOA", 6], ["NULL", 10], ["PTR", 12], ["HINFO", 13],
  ["MX", 15], ["TXT", 16], ["RP", 17], ["AFSDB", 18], ["SIG", 24], ["KEY", 25], ["AAAA", 28],
  ["LOC", 29], ["SRV", 33], ["NAPTR", 35], ["KX", 36], ["CERT", 37], ["DNAME", 39], ["OPT", 41],
  ["APL", 42], ["DS", 43], ["SSHFP", 44], ["IPSECKEY", 45], ["RRSIG", 46], ["NSEC", 47],
  ["DNSKEY", 48], ["DHCID", 49], ["NSEC3", 50], ["NSEC3PARAM", 51], ["TLSA", 52], ["HIP", 55],
  ["CDS", 59], ["CDNSKEY", 60], ["SPF", 99], ["TKEY", 249], ["TSIG", 250], ["IXFR", 251],
  ["AXFR", 252], ["ANY", 255], ["CAA", 257], ["TA", 32768], ["DLV", 32769],
];
const CLASSES: ReadonlyArray<readonly [string, number]> = [["IN", 1], ["CS", 2], ["CH", 3], ["HS", 4], ["ANY", 255]];

const typeNames = new Map(TYPES.map(([n, v]) => [v, n]));
const typeCodes = new Map(TYPES);
const classNames = new Map(CLASSES.map(([n, v]) => [v, n]));
const classCodes = new Map(CLASSES);

function codeOf(table: ReadonlyMap<string, number>, name: string): number | undefined {
  const known = table.get(name) ?? table.get(name.toUpperCase());
  if (known !== undefined) return known;
  const m = /^UNKNOWN_(\d{1,5})$/i.exec(name);
  const n = m?.[1] === undefined ? NaN : Number(m[1]);
  return n >= 0 && n <= 0xffff ? n : undefined;
}

export const rrTypeName = (code: number): string => typeNames.get(code) ?? `UNKNOWN_${code}`;
export const className = (code: number): string => classNames.get(code) ?? `UNKNOWN_${code}`;
/** The numeric type for a name from `rrTypeName` (or dns-packet); undefined when it is neither. */
export const rrTypeCode = (name: string): number | undefined => codeOf(typeCodes, name);
export const classCode = (name: string): number | undefined => codeOf(classCodes, name);

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, AAAA: 28, SRV: 33, OPT: 41, TSIG: 250 } as const;
export const CLASS_IN = 1;

/** Header RCODEs, plus BADVERS, which needs the OPT record's extended-RCODE bits (RFC 6891). */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, NOTAUTH: 9, BADVERS: 16 } as const;

// dns-packet's rcodes.js names, so a metrics label reads the same as an rcode in a dns-packet decode.
const HEADER_RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

/** Name of a 4-bit header RCODE; "RCODE_<n>" for unassigned ones, so metrics labels stay bounded. */
export const rcodeName = (rcode: number): string => HEADER_RCODE_NAMES[rcode] ?? `RCODE_${rcode}`;

export const FLAG = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  CD: 0x0010,
  /** In the OPT record's TTL field, not the header. */
  DO: 0x8000,
} as const;
/** The 4-bit OPCODE field of the header flags. */
export const OPCODE_MASK = 0x7800;

export const HEADER_LEN = 12;
/** RFC 1035 §2.3.4: 255 octets on the wire, length bytes and the root label included. */
export const MAX_NAME_WIRE = 255;
export const MAX_LABEL = 63;
/** What we advertise in our OPT (DNS flag day 2020: fits every path MTU without fragments). */
export const DEFAULT_ADVERTISED_UDP = 1232;
