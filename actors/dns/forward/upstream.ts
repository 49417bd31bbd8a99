// Upstream resolver addresses as written in config: "ip", "ip:port", "[v6]:port" (or a bare v6
// address), port 53 by default, like Mesos-DNS `Resolvers`/`ZoneResolvers` and dcos-net
// `upstream_resolvers`. Only IP literals: resolving a hostname would make the forwarder depend on
// the resolver it is part of.
import { isIP } from "node:net";
import { UpstreamParseError } from "../errors.js";

export interface Upstream {
  /** IP literal as given for v4, lower-cased for v6 (no brackets). */
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** "ip:port" for v4, "[v6]:port" for v6: the identity used in stats, events and failure counts. */
  readonly key: string;
}

export { UpstreamParseError };

const DEFAULT_DNS_PORT = 53;

function parsePort(text: string, input: string): number {
  if (!/^[0-9]{1,5}$/.test(text)) throw new UpstreamParseError(`upstream ${JSON.stringify(input)}: port ${JSON.stringify(text)} is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new UpstreamParseError(`upstream ${JSON.stringify(input)}: port ${port} is out of range 1-65535`);
  return port;
}

function make(host: string, port: number, family: 4 | 6): Upstream {
  return { host, port, family, key: family === 6 ? `[${host}]:${port}` : `${host}:${port}` };
}

/** Parses one upstream; throws UpstreamParseError with a message naming the offending input. */
export function parseUpstream(input: string): Upstream {
  const s = input.trim();
  if (s === "") throw new UpstreamParseError("upstream is empty");
  if (s.startsWith("[")) {
    const close = s.indexOf("]");
    if (close < 0) throw new UpstreamParseError(`upstream ${JSON.stringify(input)}: missing "]"`);
    const host = s.slice(1, close);
    if (isIP(host) !== 6) throw new UpstreamParseError(`upstream ${JSON.stringify(input)}: ${JSON.stringify(host)} is not an IPv6 address`);
    const rest = s.slice(close + 1);
    if (rest === "") return make(host.toLowerCase(), DEFAULT_DNS_PORT, 6);
    if (!rest.startsWith(":")) throw new UpstreamParseError(`upstream ${JSON.stringify(input)}: expected ":port" after "]"`);
    return make(host.toLowerCase(), parsePort(rest.slice(1), input), 6);
  }
  const family = isIP(s);
  if (family === 6) return make(s.toLowerCase(), DEFAULT_DNS_PORT, 6);
  if (family === 4) return make(s, DEFAULT_DNS_PORT, 4);
  const colon = s.lastIndexOf(":");
  if (colon < 0) throw new UpstreamParseError(`upstream ${JSON.stringify(input)}: not an IP address (hostnames are not accepted)`);
  const host = s.slice(0, colon);
  if (s.indexOf(":") !== colon) throw new UpstreamParseError(`upstream ${JSON.stringify(input)}: IPv6 with a port must be written "[addr]:port"`);
  if (isIP(host) !== 4) throw new UpstreamParseError(`upstream ${JSON.stringify(input)}: ${JSON.stringify(host)} is not an IPv4 address`);
  return make(host, parsePort(s.slice(colon + 1), input), 4);
}

/** Parses a list, rejecting duplicates (same address and port) as Mesos-DNS does. */
export function parseUpstreams(inputs: readonly string[]): Upstream[] {
  const seen = new Set<string>();
  return inputs.map((input) => {
    const u = parseUpstream(input);
    if (seen.has(u.key)) throw new UpstreamParseError(`upstream ${JSON.stringify(input)}: duplicate of ${u.key}`);
    seen.add(u.key);
    return u;
  });
}

/**
 * The error message for an invalid upstream, undefined when valid. Shaped for zod:
 * `z.string().superRefine((s, ctx) => { const m = upstreamError(s); if (m) ctx.addIssue({ code: "custom", message: m }); })`
 * or simply `z.string().refine(isUpstream, "not an upstream")`.
 */
export function upstreamError(input: string): string | undefined {
  try {
    parseUpstream(input);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export const isUpstream = (input: string): boolean => upstreamError(input) === undefined;

/** Expands an IPv6 literal to 8 numbers so differently-compressed spellings compare equal. */
function expandV6(addr: string): number[] | undefined {
  const a = addr.split("%")[0] ?? "";
  const tailV4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  let text = a;
  const extra: number[] = [];
  if (tailV4 !== null && tailV4[1] !== undefined) {
    const o = tailV4[1].split(".").map(Number);
    extra.push(((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0));
    text = a.slice(0, a.length - tailV4[1].length) + "0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (h: string | undefined): number[] => (h === undefined || h === "" ? [] : h.split(":").map((g) => parseInt(g, 16)));
  let head = parse(halves[0]);
  let tail = halves.length === 2 ? parse(halves[1]) : [];
  if (extra.length > 0) {
    if (halves.length === 2) tail = [...tail.slice(0, -1), ...extra];
    else head = [...head.slice(0, -1), ...extra];
  }
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

/** Whether a datagram's source address is this upstream's address (any IPv6 spelling). */
export function sameAddress(upstream: Upstream, address: string): boolean {
  if (upstream.family === 4) return address === upstream.host;
  const a = expandV6(upstream.host);
  const b = expandV6(address.toLowerCase());
  return a !== undefined && b !== undefined && a.every((v, i) => v === b[i]);
}
