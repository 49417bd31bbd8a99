// Owns the Forwarder (upstream sockets, health probes, answer cache) for the node. Queries are
// started from the mailbox and answered when their upstream race ends, so one slow upstream never
// holds up the next message; a crash here costs the cache, never the listeners.
import type { Logger } from "pino";
import type { Behaviour, ReplyTo } from "../../supervisors/index.js";
import { Forwarder, type ForwardEvent, type ForwardRequest, type ForwardResult } from "./forward/index.js";
import type { DnsMetrics } from "./metrics.js";
import type { Config } from "../../config/index.js";

export type ForwardReply = { readonly ok: true; readonly outcome: ForwardResult } | { readonly ok: false; readonly error: string };

export type ForwarderMsg =
  | { readonly type: "forward"; readonly req: ForwardRequest; readonly reply: ReplyTo<ForwardReply> }
  | { readonly type: "stats"; readonly reply: ReplyTo<ReturnType<Forwarder["stats"]>> };

interface ForwarderState {
  readonly forwarder: Forwarder;
}

interface ForwarderDeps {
  readonly dns: Config["dns"];
  readonly metrics: DnsMetrics;
  readonly logger: Logger;
}

/** forward_zones plus `.mesos` when Mesos-DNS answers it (dns.mesos.mode forward). */
function forwardZonesOf(dns: Config["dns"]): Record<string, string[]> {
  const zones: Record<string, string[]> = { ...dns.forwardZones };
  if (dns.mesos.mode === "forward" && dns.mesos.resolvers.length > 0) zones[dns.mesos.domain] = [...dns.mesos.resolvers];
  return zones;
}

/** Whether this node forwards any name, i.e. offers recursion: the RA bit of the answers it makes itself (README "RA"). */
export function recursionOffered(dns: Config["dns"]): boolean {
  return dns.upstreams.length > 0 || Object.values(forwardZonesOf(dns)).some((list) => list.length > 0);
}

export function forwarderBehaviour(deps: ForwarderDeps): Behaviour<ForwarderState, ForwarderMsg> {
  const onEvent = (ev: ForwardEvent): void => {
    switch (ev.type) {
      case "upstream-failure":
        deps.metrics.forwardFailures.inc({ upstream: ev.upstream, transport: ev.transport, reason: ev.reason });
        return;
      case "upstream-reply":
        deps.metrics.forwardDuration.observe({ upstream: ev.upstream }, ev.seconds);
        return;
      case "cache":
        deps.metrics.forwardCache.inc({ result: ev.hit ? "hit" : "miss" });
        return;
      case "health":
        deps.metrics.upstreamHealthy.set({ upstream: ev.upstream }, ev.healthy ? 1 : 0);
        deps.logger[ev.healthy ? "info" : "warn"]({ upstream: ev.upstream }, ev.healthy ? "upstream resolver answers again" : "upstream resolver failing; probing it");
        return;
    }
  };
  return {
    init() {
      const d = deps.dns;
      const forwarder = new Forwarder({
        upstreams: [...d.upstreams],
        forwardZones: forwardZonesOf(d),
        upstreamTimeoutMs: d.upstreamTimeoutMs,
        queryTimeoutMs: d.queryTimeoutMs,
        probeIntervalMs: d.probeIntervalMs,
        cache: { ...d.cache },
        onEvent,
      });
      return { forwarder };
    },
    handle(state, msg) {
      if (msg.type === "stats") {
        msg.reply(state.forwarder.stats());
        return state;
      }
      state.forwarder.forward(msg.req).then(
        (outcome) => msg.reply({ ok: true, outcome }),
        (err: Error) => msg.reply({ ok: false, error: err.message }),
      );
      return state;
    },
    terminate(state) {
      state.forwarder.close();
    },
  };
}
