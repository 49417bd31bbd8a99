// The DNS subtree (dcos_dns_sup): the zone view first (it publishes the board the listeners read),
// then the forwarder, the `.mesos` record source on master nodes, the resolver host actor (the
// resolver addresses on lo and the host's resolv.conf, when dns.resolver / dns.manageResolvConf are
// on: before the listeners, which bind those addresses), and one UDP and one TCP listener per bind
// address (dns.listen, then the resolver addresses). one_for_one, 10 restarts in 10 s: a crashed zone actor or forwarder restarts
// alone while the listeners keep answering from the board's last zones; a listener that crashes
// rebinds alone. Specs only: the shared pieces are made by listen/setup.ts and zones/parts/builtin.ts.
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { supervisor, worker, type ActorRef, type SupervisorSpec } from "../../supervisors/index.js";
import type { StoreMsg } from "../gossip/index.js";
import type { Config } from "../../config/index.js";
import { ZoneBoard } from "./board.js";
import { DnsMetrics } from "./metrics.js";
import { zoneBehaviour } from "./zone.actor.js";
import { forwarderBehaviour, type ForwarderMsg } from "./forwarder.actor.js";
import { mesosRecordsBehaviour } from "./mesos-records/mesos-records.actor.js";
import { queryPathFor, udpEngineFor } from "./listen/setup.js";
import { udpBehaviour } from "./listen/udp.actor.js";
import { tcpBehaviour } from "./listen/tcp.actor.js";
import { zonePartsFor } from "./zones/parts/builtin.js";
import type { ZonePart } from "./zones/index.js";
import { resolverListen } from "./config.js";
import { resolverHostBehaviour, type ResolverListener } from "./host/resolver-host.actor.js";
import { withHostUpstreams } from "./host/upstreams.js";

export const DNS = "dns";

export interface DnsDeps {
  readonly config: Config;
  readonly path: string;
  readonly metrics: Registry;
  readonly tracer?: Tracer;
  readonly child: (sub: string) => Logger;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  readonly lookup: <M>(path: string) => ActorRef<M> | undefined;
  readonly nodeIp: () => string | undefined;
  /** Zone parts of other subsystems (e.g. the L4LB's `l4lb.thisdcos.directory`), served after DNS's own. */
  readonly zoneParts?: readonly ZonePart[];
}

/** Throws ZonePartConflictError (two parts claim one zone) or UdpEngineUnavailableError: the node does not start. */
export function dnsTreeSpec(deps: DnsDeps): SupervisorSpec {
  const { config } = deps;
  // With dns.manageResolvConf the host's previous resolvers become the upstreams (host/upstreams.ts).
  const dns = withHostUpstreams(config.dns, deps.child("dns"));
  // The resolver addresses (dns.resolver) get listeners like dns.listen's, after them.
  const fixed = resolverListen(dns).filter((l) => !dns.listen.includes(l));
  const listen = [...dns.listen, ...fixed];
  const resolverListeners: ResolverListener[] = fixed.flatMap((address) => {
    const i = listen.indexOf(address);
    return (["udp", "tcp"] as const).map((transport) => ({ address, transport, ref: () => deps.lookup(`${deps.path}/${transport}-${i}`) }));
  });
  const board = new ZoneBoard();
  const metrics = new DnsMetrics(deps.metrics);
  const parts = zonePartsFor(dns, deps.zoneParts);
  const engine = udpEngineFor(dns.udpEngine, deps.child("dns"));
  const tracer = deps.tracer ? { tracer: deps.tracer } : {};
  const path = queryPathFor({ dns, board, metrics, logger: deps.child("dns"), ...tracer, forwarder: () => deps.lookup<ForwarderMsg>(`${deps.path}/forwarder`) });
  return supervisor(
    DNS,
    "one_for_one",
    [
      worker("zone", zoneBehaviour({ parts, nodeId: config.id, ttl: dns.ttl, negativeTtl: dns.negativeTtl, nodeIp: deps.nodeIp, board, metrics, logger: deps.child("dns-zone"), store: deps.store, ...tracer }), { shutdownMs: 1000 }),
      worker("forwarder", forwarderBehaviour({ dns, metrics, logger: deps.child("dns-forwarder") }), { shutdownMs: 1000 }),
      ...(config.mesos.masters.length > 0 && dns.mesos.mode === "native"
        ? [worker("mesos-records", mesosRecordsBehaviour({ nodeId: config.id, dns, mesos: config.mesos, nodeIp: deps.nodeIp, metrics: deps.metrics, logger: deps.child("dns-mesos-records"), store: deps.store }), { shutdownMs: 2000 })]
        : []),
      // Before the listeners: the resolver addresses must exist when they bind.
      ...(dns.resolver.enabled || dns.manageResolvConf ? [worker("resolver-host", resolverHostBehaviour({ dns, listeners: resolverListeners, logger: deps.child("dns-resolver-host"), metrics: deps.metrics }), { shutdownMs: 15_000 })] : []),
      ...listen.flatMap((listen, i) => [
        worker(`udp-${i}`, udpBehaviour({ listen, path: () => path, engine, metrics, logger: deps.child(`dns-udp-${i}`) }), { shutdownMs: 2000 }),
        worker(`tcp-${i}`, tcpBehaviour({ listen, path: () => path, metrics, logger: deps.child(`dns-tcp-${i}`), idleMs: dns.tcpIdleMs, maxConnections: dns.tcpMaxConnections }), { shutdownMs: 2000 }),
      ]),
    ],
    { intensity: 10, periodMs: 10_000 },
  );
}
