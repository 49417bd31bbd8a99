// The node's root tree. Order is data-flow order: the connection observer first, then the admin
// service; later subsystems (gossip store, catalogue, dns, l4lb, overlay) join as subtrees here.
import type { SupervisorSpec } from "../../supervisors/index.js";
import type { Config } from "../../config/index.js";
import { adminBehaviour, type AdminDeps } from "../admin/admin.actor.js";
import { connectionBehaviour } from "./connection.actor.js";

export const ROOT = "node";

export function nodeTreeSpec(config: Config, admin: AdminDeps): SupervisorSpec {
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
        behaviour: connectionBehaviour(admin.transport, admin.logs.child("connection"), admin.metrics),
      },
      { kind: "worker", name: "admin", restart: "permanent", shutdownMs: 2000, behaviour: adminBehaviour(admin) },
    ],
  };
}
