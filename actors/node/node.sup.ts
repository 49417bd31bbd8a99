// The node's root tree. Order is data-flow order: the connection observer, the admin service (so
// an operator can look inside while the rest starts), the gossip store, then this node's own facts
// written into it, then the catalogue's task sources; later subsystems (dns, l4lb, overlay) join
// after them.
import type { ActorRef, SupervisorSpec } from "../../supervisors/index.js";
import type { Config } from "../../config/index.js";
import { adminBehaviour, type AdminDeps } from "../admin/index.js";
import { gossipTreeSpec, GOSSIP } from "../gossip/index.js";
import type { StoreMsg } from "../gossip/index.js";
import { connectionBehaviour } from "./connection.actor.js";
import { factsBehaviour, localAddresses, primaryIp } from "./facts.actor.js";
import { metricsHttpBehaviour } from "./metrics-http.actor.js";
import { dnsTreeSpec, DNS } from "../dns/index.js";
import { catalogueTreeSpec } from "../catalogue/index.js";

export const ROOT = "node";

export interface NodeTreeDeps extends AdminDeps {
  readonly incarnation: number;
  readonly lookup: <M>(path: string) => ActorRef<M> | undefined;
}

export function nodeTreeSpec(config: Config, deps: NodeTreeDeps): SupervisorSpec {
  const gossipPath = `/${ROOT}/${GOSSIP}`;
  const store = () => deps.lookup<StoreMsg>(`${gossipPath}/store`);
  const nodeIp = () => primaryIp(localAddresses(), config.dns.thisnode.ip);
  const roles = [...(config.mesos.masters.length > 0 ? ["master"] : []), ...(config.mesos.agent ? ["agent"] : [])];
  return {
    kind: "supervisor",
    name: ROOT,
    restart: "permanent",
    strategy: "one_for_one",
    intensity: config.supervision.intensity,
    periodMs: config.supervision.periodMs,
    children: [
      {
        kind: "worker",
        name: "connection",
        restart: "permanent",
        shutdownMs: 1000,
        behaviour: connectionBehaviour(deps.transport, deps.logs.child("connection"), deps.metrics),
      },
      { kind: "worker", name: "admin", restart: "permanent", shutdownMs: 2000, behaviour: adminBehaviour(deps) },
      ...(config.metrics.listen
        ? [{ kind: "worker" as const, name: "metrics-http", restart: "permanent" as const, shutdownMs: 1000, behaviour: metricsHttpBehaviour({ listen: config.metrics.listen, registry: deps.metrics, logger: deps.logs.child("metrics-http") }) }]
        : []),
      gossipTreeSpec({ config, transport: deps.transport, metrics: deps.metrics, incarnation: deps.incarnation, child: (s) => deps.logs.child(s), lookup: deps.lookup, path: gossipPath }),
      {
        kind: "worker",
        name: "facts",
        restart: "permanent",
        shutdownMs: 1000,
        behaviour: factsBehaviour({
          nodeId: config.id,
          incarnation: deps.incarnation,
          version: deps.version,
          logger: deps.logs.child("facts"),
          roles,
          ...(config.dns.thisnode.ip ? { ip: config.dns.thisnode.ip } : {}),
          store,
        }),
      },
      catalogueTreeSpec({ nodeId: config.id, mesos: config.mesos, metrics: deps.metrics, child: (s) => deps.logs.child(s), store }),
      ...(config.dns.enabled
        ? [dnsTreeSpec({ config, path: `/${ROOT}/${DNS}`, metrics: deps.metrics, ...(deps.tracer ? { tracer: deps.tracer } : {}), child: (s) => deps.logs.child(s), store, lookup: deps.lookup, nodeIp })]
        : []),
    ],
  };
}
