// `dcnet node`: config from file < env < flags, then one node until SIGTERM/SIGINT or give-up.
import { loadConfig, splitList, ConfigError, type Config, type RawConfig } from "../config/index.js";
import { startNode, type NodeHandle } from "../actors/node/run.js";
import type { NodeFlags } from "./main.js";

export function flagsToConfig(flags: NodeFlags): RawConfig {
  const out: RawConfig = {};
  if (flags.id !== undefined) out.id = flags.id;
  if (flags.cluster !== undefined) out.cluster = flags.cluster;
  if (flags.nats !== undefined) out.nats = { servers: splitList(flags.nats) };
  if (flags.logLevel !== undefined) out.log = { level: flags.logLevel };
  if (flags.mesosAgent !== undefined || flags.mesos !== undefined) {
    out.mesos = { ...(flags.mesosAgent !== undefined ? { agent: flags.mesosAgent } : {}), ...(flags.mesos !== undefined ? { masters: splitList(flags.mesos) } : {}) };
  }
  if (flags.dnsListen !== undefined || flags.dnsUpstream !== undefined) {
    out.dns = { ...(flags.dnsListen !== undefined ? { listen: flags.dnsListen } : {}), ...(flags.dnsUpstream !== undefined ? { upstreams: flags.dnsUpstream } : {}) };
  }
  if (flags.metricsListen !== undefined) out.metrics = { listen: flags.metricsListen };
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
  const config = await configOrExit(flags);
  if (!config) return 2;
  const node = await startNode(config);
  return runUntilDone(node);
}

/** Wires signals to an ordered stop and returns the node's exit code. */
export async function runUntilDone(node: NodeHandle, onStopped?: () => Promise<void>): Promise<number> {
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal, or a shutdown that overruns its budget, ends the process regardless.
    setTimeout(() => process.exit(1), node.config.supervision.shutdownTimeoutMs + 2000).unref();
    void node.stop(signal);
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  const { exitCode } = await node.done;
  await onStopped?.();
  return exitCode;
}
