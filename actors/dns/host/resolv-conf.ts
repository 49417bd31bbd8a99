// resolv.conf as glibc reads it (resolv.conf(5)): the host's previous resolvers become dcnet's
// upstreams, and the file dcnet writes points the host at the node's resolver addresses. Pure.
import { isIP } from "node:net";

/** glibc reads at most this many `nameserver` lines (MAXNS); more are ignored. */
export const GLIBC_MAXNS = 3;

export interface ResolvConf {
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
  readonly options: readonly string[];
}

/**
 * The nameservers, search list and options of a resolv.conf. As glibc: `domain` and `search` replace
 * each other (the last wins), comments start with `#` or `;`, unknown lines are ignored.
 */
export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = [];
  let search: string[] = [];
  const options: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === "nameserver" && rest[0]) nameservers.push(rest[0]);
    else if (key === "search" || key === "domain") search = rest.filter(Boolean);
    else if (key === "options") options.push(...rest.filter(Boolean));
  }
  return { nameservers, search, options };
}

/**
 * The host's previous resolvers as forwarder upstreams: IP addresses only (a link-local IPv6 with a
 * `%zone` cannot be named in dns.upstreams), none of the node's own resolver addresses (a loop),
 * each once, IPv6 bracketed as the forwarder's address syntax wants.
 */
export function upstreamsFrom(conf: ResolvConf, own: readonly string[]): string[] {
  const mine = new Set(own);
  const out: string[] = [];
  for (const ns of conf.nameservers) {
    const family = ns.includes("%") ? 0 : isIP(ns);
    if (family === 0 || mine.has(ns)) continue;
    const addr = family === 6 ? `[${ns}]:53` : ns;
    if (!out.includes(addr)) out.push(addr);
  }
  return out;
}

export interface RenderInput {
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
  readonly options: readonly string[];
  /** Where the host's own file is kept, named in the header so an operator knows how to undo. */
  readonly backupPath: string;
}

/** The file dcnet installs. The header marks it as dcnet's: restore only replaces a file that still is. */
export function renderResolvConf(r: RenderInput): string {
  const lines = [
    `${DCNET_MARK} (dns.manageResolvConf). The host's own file is kept in ${r.backupPath}`,
    "# and put back when dcnet stops; edit dcnet's config (dns.resolvConf.*), not this file.",
    ...r.nameservers.slice(0, GLIBC_MAXNS).map((n) => `nameserver ${n}`),
  ];
  if (r.search.length > 0) lines.push(`search ${r.search.join(" ")}`);
  if (r.options.length > 0) lines.push(`options ${r.options.join(" ")}`);
  return `${lines.join("\n")}\n`;
}

export const DCNET_MARK = "# Written by dcnet";

/** Search domains: the configured ones first, then the host's own (if kept), each once. */
export function searchList(configured: readonly string[], previous: readonly string[], keepPrevious: boolean): string[] {
  const out: string[] = [];
  for (const d of [...configured, ...(keepPrevious ? previous : [])]) if (!out.includes(d)) out.push(d);
  return out;
}
