// `dcnet node`: config from file < env < flags, then one node until SIGTERM/SIGINT or give-up.
import { constants } from "node:os";
import { Option, type Command } from "commander";
import { splitList, ConfigError, LOG_LEVELS, type Config, type RawConfig } from "../config/index.js";
import { loadConfig } from "../actors/node/config.js";
import { startNode, type NodeHandle } from "../actors/node/index.js";
import { AUTH_ERROR_CODES, AuthError, type AuthErrorCode } from "../transport/auth/errors.js";

export interface NodeFlags {
  nats?: string;
  dnsListen?: string[];
  dnsUpstream?: string[];
  metricsListen?: string;
  mesosAgent?: string;
  mesos?: string;
  id?: string;
  cluster?: string;
  config?: string;
  logLevel?: string;
  creds?: string;
  insecure?: boolean;
  l4lb?: boolean;
  l4lbCleanup?: boolean;
  dnsCleanup?: boolean;
  overlay?: boolean;
}

/** `dcnet node` on the program (cli/main.ts imports this module only when that command runs). */
export function registerNode(program: Command, description: string): void {
  const cmd = program
    .command("node")
    .description(description)
    .option("--nats <urls>", "NATS server URL(s), comma separated (config nats.servers)")
    .option("--id <node-id>", "node id, unique in the cluster (config id)")
    .option("--cluster <name>", "cluster name (config cluster)")
    .option("--config <file>", "config file, YAML or JSON")
    .option("--mesos <urls>", "Mesos master(s) whose Operator API stream to follow, comma separated (config mesos.masters)")
    .option("--mesos-agent <url>", "this node's Mesos agent, polled for its tasks (config mesos.agent)")
    .option("--creds <file>", "this node's NATS credential, from dcnet creds node <id> (config nats.credentials)")
    .option("--insecure", "run against a NATS server that does not require authentication (config nats.insecure)")
    .option("--l4lb", "program this host's kernel (nftables) for the VIPs: the east-west load balancer (config l4lb.enabled)")
    .option("--l4lb-cleanup", "remove this host's L4LB tables from the kernel and exit (no node starts)")
    .option("--dns-cleanup", "put the host's resolv.conf back from dcnet's backup and remove the DNS resolver addresses from lo, then exit (no node starts)")
    .option("--overlay", "join the VXLAN overlay: claim a subnet and VTEP, program every peer (config overlay.enabled)")
    .addOption(new Option("--log-level <level>", "log level (config log.level)").choices(LOG_LEVELS))
    .action(async (opts: NodeFlags) => {
      process.exitCode = await runNodeCommand(opts);
    });
  listenerOptions(cmd);
}

/** Both `node` and `up` run a node, so both take its DNS and metrics listeners. */
export function listenerOptions(cmd: Command): Command {
  return cmd
    .option("--dns-listen <addr:port>", "DNS listen address, UDP and TCP; repeat for several (config dns.listen)", collect)
    .option("--dns-upstream <ip[:port]>", "resolver for names outside the dcnet zones; repeatable (config dns.upstreams)", collect)
    .option("--metrics-listen <addr:port>", "Prometheus /metrics endpoint, empty to turn off (config metrics.listen)");
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function flagsToConfig(flags: NodeFlags): RawConfig {
  const out: RawConfig = {};
  if (flags.id !== undefined) out.id = flags.id;
  if (flags.cluster !== undefined) out.cluster = flags.cluster;
  if (flags.nats !== undefined || flags.creds !== undefined || flags.insecure !== undefined) {
    out.nats = {
      ...(flags.nats !== undefined ? { servers: splitList(flags.nats) } : {}),
      ...(flags.creds !== undefined ? { credentials: flags.creds } : {}),
      ...(flags.insecure !== undefined ? { insecure: flags.insecure } : {}),
    };
  }
  if (flags.logLevel !== undefined) out.log = { level: flags.logLevel };
  if (flags.mesosAgent !== undefined || flags.mesos !== undefined) {
    out.mesos = { ...(flags.mesosAgent !== undefined ? { agent: flags.mesosAgent } : {}), ...(flags.mesos !== undefined ? { masters: splitList(flags.mesos) } : {}) };
  }
  if (flags.dnsListen !== undefined || flags.dnsUpstream !== undefined) {
    out.dns = { ...(flags.dnsListen !== undefined ? { listen: flags.dnsListen } : {}), ...(flags.dnsUpstream !== undefined ? { upstreams: flags.dnsUpstream } : {}) };
  }
  if (flags.metricsListen !== undefined) out.metrics = { listen: flags.metricsListen };
  if (flags.l4lb !== undefined) out.l4lb = { enabled: flags.l4lb };
  if (flags.overlay !== undefined) out.overlay = { enabled: flags.overlay };
  return out;
}

/** Loads config or prints the problem; undefined means "exit 2". */
export async function configOrExit(flags: NodeFlags, extra: RawConfig = {}): Promise<Config | undefined> {
  try {
    return await loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: process.env, flags: { ...extra, ...flagsToConfig(flags) } });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`dcnet: ${err.message}`);
      return undefined;
    }
    throw err;
  }
}

export async function runNodeCommand(flags: NodeFlags): Promise<number> {
  // The cleanup needs only the l4lb section: no node id, as it starts no node.
  const config = await configOrExit(flags, flags.l4lbCleanup ? { id: "l4lb-cleanup" } : flags.dnsCleanup ? { id: "dns-cleanup" } : {});
  if (!config) return 2;
  if (flags.l4lbCleanup) return cleanupL4lb(config);
  if (flags.dnsCleanup) return cleanupDns(config);
  try {
    return await runUntilDone(() => startNode(config));
  } catch (err) {
    if (!isStartRefusal(err)) throw err;
    console.error(`dcnet: ${err.message}`);
    return 2;
  }
}

async function cleanupL4lb(config: Config): Promise<number> {
  const { removeL4lbTables } = await import("../actors/l4lb/index.js");
  try {
    await removeL4lbTables(config.l4lb);
    console.log("dcnet: L4LB tables removed (ip and ip6 dcnet-l4lb)");
    return 0;
  } catch (err) {
    console.error(`dcnet: removing the L4LB tables failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function cleanupDns(config: Config): Promise<number> {
  const { cleanupResolverHost } = await import("../actors/dns/index.js");
  try {
    const r = await cleanupResolverHost(config.dns);
    const file = { restored: `${config.dns.resolvConf.path} restored from dcnet's backup`, "kept-other": `${config.dns.resolvConf.path} is no longer dcnet's: left as it is`, "no-backup": `no backup of ${config.dns.resolvConf.path}: left as it is` }[r.resolvConf];
    console.log(`dcnet: ${file}; resolver addresses removed from lo: ${r.removed.length > 0 ? r.removed.join(", ") : "none"}`);
    return 0;
  } catch (err) {
    console.error(`dcnet: the DNS cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/**
 * A node that refuses to start for want of authentication (a bad credential, a server that lets anyone
 * in) exits 2 with the reason, like a config error: retrying would not help.
 */
export function isStartRefusal(err: unknown): err is AuthError {
  return err instanceof AuthError && REFUSALS.has(err.code);
}

const REFUSALS = new Set<AuthErrorCode>([
  AUTH_ERROR_CODES.credentialMissing,
  AUTH_ERROR_CODES.credentialInvalid,
  AUTH_ERROR_CODES.credentialExpired,
  AUTH_ERROR_CODES.credentialMismatch,
  AUTH_ERROR_CODES.unauthenticated,
]);

/**
 * Starts the node, wires SIGTERM/SIGINT to its ordered stop and returns its exit code. The handlers
 * are in place before the start, so a signal just after the ready line still stops the node in order
 * (Node's default action would end the process at once); one while the node is still starting (NATS
 * unreachable, say) ends the process right away, after `onStopped`, with 128 + the signal's number.
 */
export async function runUntilDone(start: () => Promise<NodeHandle>, onStopped?: () => Promise<void>): Promise<number> {
  let node: NodeHandle | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!node) {
      void (onStopped?.() ?? Promise.resolve()).finally(() => process.exit(128 + (constants.signals[signal] ?? 0)));
      return;
    }
    // A second signal, or a shutdown that overruns its budget, ends the process regardless.
    setTimeout(() => process.exit(1), node.config.supervision.shutdownTimeoutMs + 2000).unref();
    void node.stop(signal);
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    node = await start();
  } catch (err) {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    throw err;
  }
  const { exitCode } = await node.done;
  await onStopped?.();
  return exitCode;
}
