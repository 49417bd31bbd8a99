// IP parsing with Go `net.ParseIP` semantics: Mesos-DNS drops values that do not parse and
// prints the canonical form (`String()`), and IPv4-mapped IPv6 becomes an A record.

export interface ParsedIp {
  readonly text: string;
  readonly family: 4 | 6;
}

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/** Canonical IPv6 via the WHATWG URL host parser (RFC 5952 compression, like Go). */
function canonicalV6(s: string): string | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(":")) return undefined;
  try {
    const host = new URL(`http://[${s}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return undefined;
  }
}

function mappedToV4(v6: string): string | undefined {
  const m = MAPPED.exec(v6);
  if (!m?.[1] || !m[2]) return undefined;
  const hi = parseInt(m[1], 16);
  const lo = parseInt(m[2], 16);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
}

/** Parse an IP literal; undefined when Go's ParseIP would return nil. */
export function parseIp(s: string): ParsedIp | undefined {
  if (IPV4.test(s)) return { text: s, family: 4 };
  const v6 = canonicalV6(s);
  if (v6 === undefined) return undefined;
  const v4 = mappedToV4(v6);
  return v4 === undefined ? { text: v6, family: 6 } : { text: v4, family: 4 };
}

/** Go `net.SplitHostPort` for the `host:port` / `[v6]:port` forms found in PIDs and masters. */
export function splitHostPort(s: string): { host: string; port: string } | undefined {
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0 || s.charAt(end + 1) !== ":") return undefined;
    const host = s.slice(1, end);
    const port = s.slice(end + 2);
    return host.includes("]") || port.includes(":") || port.includes("]") ? undefined : { host, port };
  }
  const colon = s.lastIndexOf(":");
  if (colon < 0) return undefined;
  const host = s.slice(0, colon);
  if (host.includes(":") || host.includes("[") || host.includes("]")) return undefined;
  return { host, port: s.slice(colon + 1) };
}

/** Go `net.JoinHostPort`: brackets a host containing `:`. */
export function joinHostPort(host: string, port: string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
