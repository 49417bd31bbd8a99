// With dns.manageResolvConf and no dns.upstreams, the host's previous resolvers are the forwarder's
// upstreams ("nothing breaks": external names resolve as before, now through dcnet). Read once when
// the subtree is built, before the forwarder starts, because the forwarder and the query path fix
// their upstreams (and RA) at start. The backup wins over the live file: after a run that did not
// stop cleanly the live file is dcnet's own.
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { Config } from "../../../config/index.js";
import { parseResolvConf, upstreamsFrom, type ResolvConf } from "./resolv-conf.js";

type DnsConfig = Config["dns"];

export function backupPathOf(dns: DnsConfig): string {
  return dns.resolvConf.backupPath ?? `${dns.resolvConf.path}.dcnet-backup`;
}

/** The host's resolv.conf before dcnet (backup first), parsed; undefined when neither can be read. */
export function previousResolvConf(dns: DnsConfig): { readonly conf: ResolvConf; readonly from: string } | undefined {
  for (const from of [backupPathOf(dns), dns.resolvConf.path]) {
    let text: string;
    try {
      text = readFileSync(from, "utf8");
    } catch {
      continue;
    }
    return { conf: parseResolvConf(text), from };
  }
  return undefined;
}

/** The dns section the forwarder and query path run with: dns.upstreams, or the host's previous resolvers. */
export function withHostUpstreams(dns: DnsConfig, logger: Logger): DnsConfig {
  if (!dns.manageResolvConf || dns.upstreams.length > 0) return dns;
  const prev = previousResolvConf(dns);
  const upstreams = prev ? upstreamsFrom(prev.conf, dns.resolver.addresses) : [];
  if (upstreams.length === 0) {
    logger.warn({ path: dns.resolvConf.path }, "dns.manageResolvConf: the host's resolv.conf names no resolver dcnet can forward to, and dns.upstreams is empty: names outside the cluster's zones are REFUSED");
    return dns;
  }
  logger.info({ upstreams, from: prev?.from }, "dns: the host's previous resolvers are the upstreams (dns.upstreams is empty)");
  return { ...dns, upstreams };
}
