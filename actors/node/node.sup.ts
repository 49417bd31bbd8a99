// The node's root tree. Order is data-flow order: the connection observer, the admin service (so
// an operator can look inside while the rest starts), the gossip store, then this node's own facts
// written into it, then the catalogue's task sources, then the views derived from them (DNS, the
// L4LB, the overlay). Specs only: what each child does lives in its own folder.
import { supervisor, worker, type ActorRef, type ChildSpec, type SupervisorSpec } from "../../supervisors/index.js";
import type { Config } from "../../config/index.js";
import { adminBehaviour, type AdminDeps } from "../admin/index.js";
import { gossipTreeSpec, GOSSIP, STORE_PATH, type StoreMsg } from "../gossip/index.js";
import { dnsTreeSpec, DNS, type ZonePart } from "../dns/index.js";
import { catalogueTreeSpec } from "../catalogue/index.js";
import { l4lbTreeSpec, l4lbZonePart, NamesBoard } from "../l4lb/index.js";
import { overlayTreeSpec } from "../overlay/index.js";
import { edgeTreeSpec } from "../edge/index.js";
import { apiTreeSpec } from "../api/index.js";
import { connectionBehaviour } from "./connection.actor.js";
import { factsBehaviour, localAddresses, primaryIp } from "./facts.actor.js";
import { metricsHttpBehaviour } from "./metrics-http.actor.js";

const ROOT = "node";

export interface NodeTreeDeps extends AdminDeps {
  readonly incarnation: number;
  readonly lookup: <M>(path: string) => ActorRef<M> | undefined;
  /** Zone parts other subsystems contribute to DNS (each from its door), after DNS's own. */
  readonly zoneParts?: readonly ZonePart[];
}

export function nodeTreeSpec(config: Config, deps: NodeTreeDeps): SupervisorSpec {
  const store = () => deps.lookup<StoreMsg>(STORE_PATH);
  const nodeIp = () => primaryIp(localAddresses(), config.dns.thisnode.ip);
  const roles = [...(config.mesos.masters.length > 0 ? ["master"] : []), ...(config.mesos.agent ? ["agent"] : [])];
  const child = (s: string) => deps.logs.child(s);
  const optional = (on: unknown, spec: () => ChildSpec): ChildSpec[] => (on ? [spec()] : []);
  // Outlives both readers: DNS keeps answering the L4LB's names while the L4LB restarts (names-board.ts).
  const board = new NamesBoard();
  // The l4lb zone is served even with the L4LB off (empty: its names are this node's to answer, never forwarded).
  const zoneParts = [l4lbZonePart(board), ...(deps.zoneParts ?? [])];
  return supervisor(
    ROOT,
    "one_for_one",
    [
      worker("connection", connectionBehaviour(deps.transport, child("connection"), deps.metrics), { shutdownMs: 1000 }),
      worker("admin", adminBehaviour(deps), { shutdownMs: 2000 }),
      ...optional(config.metrics.listen, () => worker("metrics-http", metricsHttpBehaviour({ listen: config.metrics.listen, registry: deps.metrics, logger: child("metrics-http") }), { shutdownMs: 1000 })),
      gossipTreeSpec({ config, transport: deps.transport, metrics: deps.metrics, incarnation: deps.incarnation, child, lookup: deps.lookup, path: `/${ROOT}/${GOSSIP}`, ...(deps.tracer ? { tracer: deps.tracer } : {}) }),
      worker(
        "facts",
        factsBehaviour({ nodeId: config.id, incarnation: deps.incarnation, version: deps.version, logger: child("facts"), roles, ...(config.dns.thisnode.ip ? { ip: config.dns.thisnode.ip } : {}), store }),
        { shutdownMs: 1000 },
      ),
      catalogueTreeSpec({ nodeId: config.id, mesos: config.mesos, metrics: deps.metrics, child, store, ...(config.overlay.enabled ? { attachmentsDir: `${config.overlay.cniStateDir}/${config.overlay.name}` } : {}) }),
      ...optional(config.dns.enabled, () =>
        dnsTreeSpec({ config, path: `/${ROOT}/${DNS}`, metrics: deps.metrics, ...(deps.tracer ? { tracer: deps.tracer } : {}), child, store, lookup: deps.lookup, nodeIp, zoneParts }),
      ),
      ...optional(config.l4lb.enabled, () => l4lbTreeSpec({ config, transport: deps.transport, metrics: deps.metrics, board, child, lookup: deps.lookup })),
      ...optional(config.edge.enabled, () => edgeTreeSpec({ config, metrics: deps.metrics, child, store, board })),
      ...optional(config.overlay.enabled, () => overlayTreeSpec({ config, transport: deps.transport, metrics: deps.metrics, child, store, lookup: deps.lookup, nodeIp })),
      // Last: it reads every view above (catalogue, store, DNS) and serves them over HTTP.
      ...optional(config.api.listen, () => apiTreeSpec({ config, version: deps.version, metrics: deps.metrics, child, lookup: deps.lookup })),
    ],
    { intensity: config.supervision.intensity, periodMs: config.supervision.periodMs },
  );
}
