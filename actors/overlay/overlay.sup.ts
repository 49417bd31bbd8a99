// The overlay subtree, rest_for_one in data-flow order: `claim` (this node's subnet and VTEP from the
// KV, asserted into the store), then `applier` (every node's facts → this node's VXLAN, bridges and
// per-peer entries, read back and repaired), then `docker` (the CNM network on d-dcos, when
// overlay.docker is set). Absent when overlay.enabled is false.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Config } from "../../config/index.js";
import type { Transport } from "../../transport/index.js";
import { supervisor, worker, type ActorRef, type SupervisorSpec } from "../../supervisors/index.js";
import { MEMBERSHIP_PATH, type MembershipMsg, type StoreMsg } from "../gossip/index.js";
import { claimBehaviour } from "./claim.actor.js";
import { overlayApplierBehaviour, type OverlayApplierMsg } from "./applier.actor.js";
import { overlayDockerBehaviour } from "./docker.actor.js";
import { cniSocketBehaviour } from "./cni-socket.actor.js";

export const OVERLAY = "overlay";
export const OVERLAY_APPLIER_PATH = `/node/${OVERLAY}/applier`;

export interface OverlayDeps {
  readonly config: Config;
  readonly transport: Transport;
  readonly metrics: Registry;
  readonly child: (sub: string) => Logger;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  readonly lookup: <M>(path: string) => ActorRef<M> | undefined;
  readonly nodeIp: () => string | undefined;
}

export function overlayTreeSpec(deps: OverlayDeps): SupervisorSpec {
  const cfg = deps.config.overlay;
  const nodeId = deps.config.id;
  return supervisor(
    OVERLAY,
    "rest_for_one",
    [
      worker("claim", claimBehaviour({ nodeId, config: cfg, logger: deps.child("overlay-claim"), metrics: deps.metrics, connection: () => deps.transport.nc, store: deps.store, nodeIp: deps.nodeIp }), { shutdownMs: 2000 }),
      worker("applier", overlayApplierBehaviour({ nodeId, config: cfg, dns: deps.config.dns, logger: deps.child("overlay-applier"), metrics: deps.metrics, store: deps.store, membership: () => deps.lookup<MembershipMsg>(MEMBERSHIP_PATH) }), { shutdownMs: 5000 }),
      // The plugin's calls answered warm, once the bridge they attach to is made.
      worker("cni-socket", cniSocketBehaviour({ path: cfg.cniSocket ?? `${cfg.cniStateDir}/cni.sock`, logger: deps.child("overlay-cni-socket"), metrics: deps.metrics }), { shutdownMs: 2000 }),
      // CNM: the Docker network on d-dcos, once the applier has made the bridge (overlay.docker set).
      ...(cfg.docker ? [worker("docker", overlayDockerBehaviour({ name: cfg.name, socketPath: cfg.docker, logger: deps.child("overlay-docker"), metrics: deps.metrics, applier: () => deps.lookup<OverlayApplierMsg>(OVERLAY_APPLIER_PATH), periodMs: cfg.reconcileMs }), { shutdownMs: 2000 })] : []),
    ],
    { intensity: 5, periodMs: 10_000 },
  );
}
