// The DNS subtree (dcos_dns_sup): the zone view first (it publishes the board the listeners read),
// then the forwarder, the `.mesos` record source on master nodes, and one UDP and one TCP listener
// per bind address. one_for_one: a crashed zone actor or forwarder restarts alone while the
// listeners keep answering from the board's last zones; a listener that crashes rebinds alone.
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ActorRef, ChildSpec, SupervisorSpec } from "../../supervisors/index.js";
import type { StoreMsg } from "../gossip/index.js";
import type { Config } from "../../config/index.js";
import { ZoneBoard } from "./board.js";
import { DnsMetrics } from "./metrics.js";
import { QueryPath, type ForwardOutcome, type ForwardRequest } from "./serve.js";
import { ResponseCache } from "./wire/index.js";
import { zoneBehaviour } from "./zone.actor.js";
import { forwarderBehaviour, type ForwarderMsg, type ForwardReply } from "./forwarder.actor.js";
import { mesosRecordsBehaviour } from "./mesos-records.actor.js";
import { udpBehaviour } from "./udp.actor.js";
import { selectUdpEngine } from "./udp-engine.js";
import { tcpBehaviour } from "./tcp.actor.js";

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
}

export function dnsTreeSpec(deps: DnsDeps): SupervisorSpec {
  const { config } = deps;
  const dns = config.dns;
  const board = new ZoneBoard();
  const metrics = new DnsMetrics(deps.metrics);
  const forward = async (req: ForwardRequest): Promise<ForwardOutcome> => {
    const ref = deps.lookup<ForwarderMsg>(`${deps.path}/forwarder`);
    if (!ref) throw new Error("the forwarder is restarting");
    const r = await ref.ask<ForwardReply>((reply) => ({ type: "forward", req, reply }), dns.queryTimeoutMs + 1000);
    if (!r.ok) throw new Error(r.error);
    return r.outcome;
  };
  const path = new QueryPath({
    board,
    cache: new ResponseCache({ rotation: dns.rotation }),
    metrics,
    logger: deps.child("dns"),
    ...(deps.tracer ? { tracer: deps.tracer } : {}),
    forward,
    options: { rotation: dns.rotation, maxUdpSize: dns.maxUdpSize, maxInflight: dns.maxInflight, traceEvery: dns.traceEvery },
  });
  const engine = selectUdpEngine(dns.udpEngine);
  if ("error" in engine) throw new Error(engine.error);
  if (engine.engine === "dgram" && dns.udpEngine === "auto") deps.child("dns").warn({ why: engine.why }, "DNS over UDP runs on node:dgram, at about half the batch engine's throughput");
  const listeners: ChildSpec[] = dns.listen.flatMap((listen, i) => [
    { kind: "worker" as const, name: `udp-${i}`, restart: "permanent" as const, shutdownMs: 2000, behaviour: udpBehaviour({ listen, path: () => path, engine, metrics, logger: deps.child(`dns-udp-${i}`) }) },
    {
      kind: "worker" as const,
      name: `tcp-${i}`,
      restart: "permanent" as const,
      shutdownMs: 2000,
      behaviour: tcpBehaviour({ listen, path: () => path, metrics, logger: deps.child(`dns-tcp-${i}`), idleMs: dns.tcpIdleMs, maxConnections: dns.tcpMaxConnections }),
    },
  ]);
  return {
    kind: "supervisor",
    name: DNS,
    restart: "permanent",
    strategy: "one_for_one",
    intensity: 10,
    periodMs: 10_000,
    children: [
      { kind: "worker", name: "zone", restart: "permanent", shutdownMs: 1000, behaviour: zoneBehaviour({ nodeId: config.id, dns, nodeIp: deps.nodeIp, board, metrics, logger: deps.child("dns-zone"), store: deps.store, ...(deps.tracer ? { tracer: deps.tracer } : {}) }) },
      { kind: "worker", name: "forwarder", restart: "permanent", shutdownMs: 1000, behaviour: forwarderBehaviour({ dns, metrics, logger: deps.child("dns-forwarder") }) },
      ...(config.mesos.masters.length > 0 && dns.mesos.mode === "native"
        ? [
            {
              kind: "worker" as const,
              name: "mesos-records",
              restart: "permanent" as const,
              shutdownMs: 2000,
              behaviour: mesosRecordsBehaviour({ nodeId: config.id, dns, mesos: config.mesos, nodeIp: deps.nodeIp, metrics: deps.metrics, logger: deps.child("dns-mesos-records"), store: deps.store }),
            },
          ]
        : []),
      ...listeners,
    ],
  };
}
