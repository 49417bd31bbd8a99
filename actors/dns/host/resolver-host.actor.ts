// /node/dns/resolver-host: makes this node's DNS the host's and its containers' resolver. Started
// after the forwarder and before the listeners (dns.sup.ts), so the resolver addresses exist when
// the listeners bind them: it puts the addresses on lo (addresses.ts says why lo), installs the
// host's resolv.conf when dns.manageResolvConf is on, then watches the resolver listeners: one that
// cannot bind (port 53 taken by another resolver) is reported once per outage with the process that
// holds the port, and counted; the other addresses are served meanwhile. On stop (and before a
// restart) it puts the host's resolv.conf back and removes the addresses it owns, after the
// listeners have closed (reverse start order). Nothing here throws out of a handler: a host that
// refuses an address or a read-only resolv.conf costs that piece only, never the node.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ActorRef, Behaviour, ReplyTo } from "../../../supervisors/index.js";
import type { Config } from "../../../config/index.js";
import { counter, gauge } from "../../../observability/metrics.js";
import { runCommand, type RunResult } from "../../../host/run.js";
import type { DnsListenerMsg } from "../listen/listener.js";
import { ResolvConfError } from "../errors.js";
import { addArgs, delArgs, parseIpAddrJson, planAddresses, type AddressPlan } from "./addresses.js";
import { conflictAdvice, portHolders } from "./port-holder.js";
import { renderResolvConf, searchList } from "./resolv-conf.js";
import { installResolvConf, restoreResolvConf } from "./resolv-file.js";
import { backupPathOf, previousResolvConf } from "./upstreams.js";

type DnsConfig = Config["dns"];
const CHECK_MS = 2000;
const TOOL_TIMEOUT_MS = 10_000;

export type AddressState = "added" | "owned" | "adopted" | "conflict" | "failed";

export interface ResolverAddressStatus {
  readonly address: string;
  readonly state: AddressState;
  /** Why, for `conflict` and `failed`. */
  readonly detail?: string;
  readonly udp: boolean;
  readonly tcp: boolean;
  /** The port-53 problem while a listener cannot bind. */
  readonly problem?: string;
}

export interface ResolverHostStatus {
  readonly addresses: readonly ResolverAddressStatus[];
  readonly resolvConf: { readonly managed: boolean; readonly path: string; readonly backupPath: string; readonly state: "off" | "installed" | "failed" | "restored"; readonly error?: string };
}

export type ResolverHostMsg = { readonly type: "check" } | { readonly type: "status"; readonly reply: ReplyTo<ResolverHostStatus> };

export interface ResolverListener {
  readonly address: string;
  readonly transport: "udp" | "tcp";
  readonly ref: () => ActorRef<DnsListenerMsg> | undefined;
}

export interface ResolverHostDeps {
  readonly dns: DnsConfig;
  readonly listeners: readonly ResolverListener[];
  readonly logger: Logger;
  readonly metrics: Registry;
  /** How `ip` and `ss` run; tests may wrap them. Default: the binaries in this namespace. */
  readonly run?: (argv: readonly string[]) => Promise<RunResult>;
}

interface Entry {
  readonly plan: AddressPlan;
  state: AddressState;
  detail?: string;
  udp: boolean;
  tcp: boolean;
  problem?: string;
}

interface State {
  addresses: Map<string, Entry>;
  resolv: ResolverHostStatus["resolvConf"];
  timer: NodeJS.Timeout | undefined;
}

export function resolverHostBehaviour(deps: ResolverHostDeps): Behaviour<State, ResolverHostMsg> {
  const { dns, logger: log } = deps;
  const run = deps.run ?? ((argv: readonly string[]) => runCommand(argv, { timeoutMs: TOOL_TIMEOUT_MS }));
  const backupPath = backupPathOf(dns);
  const m = {
    problems: counter(deps.metrics, "dcnet_dns_resolver_problems_total", "Problems making this node the host's resolver, by kind: address-conflict (on another interface), address-failed (ip refused it), port-taken (another resolver holds port 53 there), resolv-conf-* (read-only, not-permitted, missing-directory, failed)", ["reason"]),
    listening: gauge(deps.metrics, "dcnet_dns_resolver_listening", "1 while the node answers on a resolver address (per transport), 0 while it cannot bind it", ["address", "transport"]),
    resolvConf: gauge(deps.metrics, "dcnet_dns_resolver_resolv_conf_installed", "1 while the host's resolv.conf is dcnet's (dns.manageResolvConf)"),
  };

  const setUpAddresses = async (s: State): Promise<void> => {
    const listed = await run(["ip", "-j", "addr", "show"]).catch((e: unknown) => ({ code: 1, stdout: "", stderr: String(e), timedOut: false }));
    const plans = planAddresses(dns.resolver.addresses, listed.code === 0 ? parseIpAddrJson(listed.stdout) : []);
    for (const plan of plans) {
      const entry: Entry = { plan, state: "owned", udp: false, tcp: false };
      s.addresses.set(plan.address, entry);
      if (plan.action === "conflict") {
        entry.state = "conflict";
        entry.detail = `${plan.address} is already on ${plan.on} (/${plan.prefixlen}): left there, not put on lo, never removed by dcnet. Remove it from ${plan.on} or from dns.resolver.addresses; dcnet answers on it only if port ${dns.resolver.port} is free there`;
        m.problems.inc({ reason: "address-conflict" });
        log.error({ address: plan.address, on: plan.on }, `dns resolver address conflict: ${entry.detail}`);
      } else if (plan.action === "add") {
        const r = await run(["ip", ...addArgs(plan.address)]).catch((e: unknown) => ({ code: 1, stdout: "", stderr: String(e), timedOut: false }));
        if (r.code === 0) entry.state = "added";
        else {
          entry.state = "failed";
          entry.detail = `ip ${addArgs(plan.address).join(" ")}: ${r.stderr.trim() || `exit ${r.code}`} (is dcnet root, with CAP_NET_ADMIN?)`;
          m.problems.inc({ reason: "address-failed" });
          log.error({ address: plan.address, err: entry.detail }, "dns: cannot put a resolver address on lo; the node serves the others");
        }
      } else entry.state = plan.action === "own" ? "owned" : "adopted";
    }
    const up = [...s.addresses.values()].filter((a) => a.state !== "failed").map((a) => a.plan.address);
    log.info({ addresses: up, device: "lo" }, "dns: resolver addresses ready");
  };

  const installHostFile = async (s: State): Promise<void> => {
    const prev = previousResolvConf(dns);
    const text = renderResolvConf({
      nameservers: dns.resolver.addresses,
      search: searchList(dns.resolvConf.search, prev?.conf.search ?? [], dns.resolvConf.keepSearch),
      options: dns.resolvConf.options,
      backupPath,
    });
    try {
      const { backedUp } = await installResolvConf(dns.resolvConf.path, backupPath, text);
      s.resolv = { ...s.resolv, state: "installed" };
      m.resolvConf.set(1);
      log.info({ path: dns.resolvConf.path, backup: backupPath, backedUp }, "dns: the host's resolv.conf points at the resolver addresses");
    } catch (e) {
      const err = e instanceof ResolvConfError ? e : new ResolvConfError(String(e), "failed");
      s.resolv = { ...s.resolv, state: "failed", error: err.message };
      m.problems.inc({ reason: `resolv-conf-${err.problem}` });
      log.error({ path: dns.resolvConf.path, code: err.code, problem: err.problem }, err.message);
    }
  };

  /** Asks each resolver listener whether it is bound; names the holder of a port it cannot get. */
  const check = async (s: State): Promise<void> => {
    for (const l of deps.listeners) {
      const entry = [...s.addresses.values()].find((a) => sameListen(l.address, a.plan.address));
      if (!entry) continue;
      // A listener that does not answer (restarting) counts as not bound this round.
      const bound = await l
        .ref()
        ?.ask<string>((reply) => ({ type: "address", reply }), 2000)
        .catch(() => "");
      const ok = bound !== undefined && bound !== "";
      m.listening.set({ address: entry.plan.address, transport: l.transport }, ok ? 1 : 0);
      const was = entry[l.transport];
      entry[l.transport] = ok;
      if (ok) {
        if (!entry.udp || !entry.tcp) continue;
        if (entry.problem) log.info({ address: entry.plan.address }, "dns: the resolver address is served again");
        delete entry.problem;
        continue;
      }
      if (was === false && entry.problem) continue;
      if (entry.state === "failed") continue;
      const ss = await run(["ss", "-H", "-lnp", l.transport === "udp" ? "-u" : "-t"]).catch(() => ({ code: 1, stdout: "", stderr: "", timedOut: false }));
      const advice = conflictAdvice(entry.plan.address, dns.resolver.port, l.transport, portHolders(ss.stdout, entry.plan.address, dns.resolver.port));
      if (entry.problem === undefined) m.problems.inc({ reason: "port-taken" });
      entry.problem = advice;
      log.error({ address: entry.plan.address, transport: l.transport }, `dns: ${advice}`);
    }
  };

  const schedule = (s: State, self: ActorRef<ResolverHostMsg>, ms: number): void => {
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => self.tell({ type: "check" }), ms);
    s.timer.unref();
  };

  return {
    handlerDeadlineMs: 60_000,
    async init(ctx) {
      const s: State = { addresses: new Map(), resolv: { managed: dns.manageResolvConf, path: dns.resolvConf.path, backupPath, state: "off" }, timer: undefined };
      if (dns.resolver.enabled) await setUpAddresses(s);
      if (dns.manageResolvConf) await installHostFile(s);
      // The listeners start after this actor: the first check gives them a moment to bind.
      schedule(s, ctx.self, 500);
      return s;
    },
    async handle(s, msg, ctx) {
      if (msg.type === "status") {
        msg.reply({
          addresses: [...s.addresses.values()].map((a) => ({ address: a.plan.address, state: a.state, udp: a.udp, tcp: a.tcp, ...(a.detail ? { detail: a.detail } : {}), ...(a.problem ? { problem: a.problem } : {}) })),
          resolvConf: s.resolv,
        });
        return s;
      }
      await check(s);
      schedule(s, ctx.self, CHECK_MS);
      return s;
    },
    async terminate(s) {
      if (s.timer) clearTimeout(s.timer);
      if (s.resolv.state === "installed") {
        try {
          const r = await restoreResolvConf(dns.resolvConf.path, backupPath);
          s.resolv = { ...s.resolv, state: "restored" };
          m.resolvConf.set(0);
          if (r === "kept-other") log.warn({ path: dns.resolvConf.path }, "dns: the host's resolv.conf was replaced by something else while dcnet ran; left as it is (the old backup is dropped)");
          else log.info({ path: dns.resolvConf.path }, "dns: the host's resolv.conf is back");
        } catch (e) {
          const err = e instanceof ResolvConfError ? e : new ResolvConfError(String(e), "failed");
          m.problems.inc({ reason: `resolv-conf-${err.problem}` });
          log.error({ path: dns.resolvConf.path, backup: backupPath }, err.message);
        }
      }
      for (const a of s.addresses.values()) {
        if (a.state !== "added" && a.state !== "owned") continue;
        const r = await run(["ip", ...delArgs(a.plan.address)]).catch((e: unknown) => ({ code: 1, stdout: "", stderr: String(e), timedOut: false }));
        if (r.code !== 0 && !/Cannot assign|not found/i.test(r.stderr)) log.warn({ address: a.plan.address, err: r.stderr.trim() }, "dns: could not remove a resolver address from lo");
        m.listening.remove({ address: a.plan.address, transport: "udp" });
        m.listening.remove({ address: a.plan.address, transport: "tcp" });
      }
    },
  };
}

/** `198.51.100.1:53` / `[fd00::1]:53` names `198.51.100.1` / `fd00::1`. */
function sameListen(listen: string, address: string): boolean {
  const host = listen.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === address;
}
