// Owner-name and address checks shared by every zone builder. Zones store names the way
// types.ts fixes them (lower-case, no trailing dot), so every producer must normalise the same way.

const MAX_NAME = 253; // 255 wire octets minus the length byte of the first label and the root
const MAX_LABEL = 63;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_CHARS = /^[0-9a-fA-F:.]+$/;

/**
 * ASCII-only lower-casing plus one trailing dot removed. DNS compares names ASCII-case-insensitively
 * (RFC 4343); String#toLowerCase would also fold non-ASCII letters and change the wire bytes.
 */
export function normalizeName(name: string): string {
  const lower = name.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** Why a normalised name cannot be an owner or target, or undefined when it can. */
export function nameProblem(name: string): string | undefined {
  if (name === "") return "empty name";
  if (name.length > MAX_NAME) return `name longer than ${MAX_NAME} characters`;
  // Printable ASCII only: anything else would need escaping in presentation format and is
  // never produced by the label functions; rejecting it keeps the wire and `ctl` output equal.
  if (!/^[\x21-\x7e]+$/.test(name)) return "name has a character outside printable ASCII";
  for (const label of name.split(".")) {
    if (label === "") return "empty label";
    if (label.length > MAX_LABEL) return `label longer than ${MAX_LABEL} characters`;
  }
  return undefined;
}

/** True when `name` is `origin` or below it (both normalised). */
export function inZone(name: string, origin: string): boolean {
  return name === origin || name.endsWith(`.${origin}`);
}

/** Every name strictly between `name` and `origin`, nearest first (the empty-non-terminal candidates). */
export function parentsBelow(name: string, origin: string): string[] {
  const out: string[] = [];
  let cur = name;
  while (cur !== origin) {
    const dot = cur.indexOf(".");
    if (dot < 0) break;
    cur = cur.slice(dot + 1);
    if (cur !== origin && inZone(cur, origin)) out.push(cur);
  }
  return out;
}

interface CanonicalIp {
  readonly family: 4 | 6;
  readonly text: string;
}

/**
 * Strict dotted-quad IPv4 (no leading zeros, no shorthand) or IPv6 in its canonical compressed
 * form, so equal addresses written differently dedupe to one record.
 */
export function canonicalIp(s: string): CanonicalIp | undefined {
  if (typeof s !== "string") return undefined; // store-read values are not always what the type says
  if (IPV4.test(s)) return { family: 4, text: s };
  if (!s.includes(":") || !IPV6_CHARS.test(s)) return undefined;
  try {
    // The WHATWG URL parser is the one IPv6 serialiser in the platform that needs no I/O module.
    const host = new URL(`http://[${s}]/`).hostname;
    return { family: 6, text: host.slice(1, -1) };
  } catch {
    return undefined;
  }
}
