// `dcnet node --dns-cleanup`: undoes what the resolver host actor does, without a node — for an
// uninstall, or after a node that was killed (SIGKILL, OOM, power loss) left the host pointing at
// resolver addresses nobody serves. Puts the host's resolv.conf back from dcnet's backup (only while
// the file is still dcnet's) and removes the resolver addresses dcnet put on lo (IPv4: those with
// its label; IPv6: the configured ones, which carry no label).
import { isIP } from "node:net";
import type { Config } from "../../../config/index.js";
import { runCommand } from "../../../host/run.js";
import { delArgs, parseIpAddrJson, RESOLVER_DEVICE, RESOLVER_LABEL } from "./addresses.js";
import { restoreResolvConf } from "./resolv-file.js";
import { backupPathOf } from "./upstreams.js";

export interface ResolverCleanup {
  readonly resolvConf: "restored" | "kept-other" | "no-backup";
  readonly removed: readonly string[];
}

export async function cleanupResolverHost(dns: Config["dns"]): Promise<ResolverCleanup> {
  const resolvConf = await restoreResolvConf(dns.resolvConf.path, backupPathOf(dns));
  const listed = await runCommand(["ip", "-j", "addr", "show", "dev", RESOLVER_DEVICE], { timeoutMs: 10_000 });
  if (listed.code !== 0) throw new Error(`ip -j addr show dev ${RESOLVER_DEVICE}: ${listed.stderr.trim()}`);
  const v6 = new Set(dns.resolver.addresses.filter((a) => isIP(a) === 6));
  const ours = parseIpAddrJson(listed.stdout).filter((a) => a.label === RESOLVER_LABEL || (v6.has(a.local) && a.prefixlen === 128));
  const removed: string[] = [];
  for (const a of ours) {
    const r = await runCommand(["ip", ...delArgs(a.local)], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`ip ${delArgs(a.local).join(" ")}: ${r.stderr.trim()}`);
    removed.push(a.local);
  }
  return { resolvConf, removed };
}
