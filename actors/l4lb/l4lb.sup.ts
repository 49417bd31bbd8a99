// The L4LB subtree, rest_for_one in data-flow order: the named-VIP allocator client, the applier
// (the one writer of the kernel's L4LB tables) and the reconciler (reads the kernel back). A restart
// of the allocator restarts the applier, which re-subscribes and re-adopts the kernel (nothing is
// flushed: the rules stay and connections keep flowing). Starts after the catalogue (the node tree
// orders it so); absent from the tree when l4lb.enabled is false.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Config } from "../../config/index.js";
import type { Transport } from "../../transport/index.js";
import { supervisor, worker, type ActorRef, type SupervisorSpec } from "../../supervisors/index.js";
import { MEMBERSHIP_PATH, type MembershipMsg } from "../gossip/index.js";
import type { VipsMsg } from "../catalogue/index.js";
import { allocatorBehaviour, type AllocatorMsg } from "./allocator.actor.js";
import { applierBehaviour, type ApplierMsg } from "./applier.actor.js";
import { reconcilerBehaviour } from "./reconciler.actor.js";
import type { NamesBoard } from "./names-board.js";

export const L4LB = "l4lb";
const PATH = `/node/${L4LB}`;
export const APPLIER_PATH = `${PATH}/applier`;
const ALLOCATOR_PATH = `${PATH}/allocator`;
const CATALOGUE_VIPS_PATH = "/node/catalogue/vips";

export interface L4lbDeps {
  readonly config: Config;
  readonly transport: Transport;
  readonly metrics: Registry;
  readonly board: NamesBoard;
  readonly child: (sub: string) => Logger;
  readonly lookup: <M>(path: string) => ActorRef<M> | undefined;
}

export function l4lbTreeSpec(deps: L4lbDeps): SupervisorSpec {
  const cfg = deps.config.l4lb;
  const { metrics, lookup } = deps;
  return supervisor(
    L4LB,
    "rest_for_one",
    [
      worker(
        "allocator",
        allocatorBehaviour({
          logger: deps.child("l4lb-allocator"),
          metrics,
          connection: () => deps.transport.nc,
          bucket: cfg.bucket,
          replicas: cfg.replicas,
          graceMs: cfg.releaseGraceMs,
          ranges: { v4: cfg.namedV4, v6: cfg.namedV6 },
        }),
        { shutdownMs: 2000 },
      ),
      worker(
        "applier",
        applierBehaviour({
          config: cfg,
          logger: deps.child("l4lb-applier"),
          metrics,
          board: deps.board,
          vips: () => lookup<VipsMsg>(CATALOGUE_VIPS_PATH),
          allocator: () => lookup<AllocatorMsg>(ALLOCATOR_PATH),
          membership: () => lookup<MembershipMsg>(MEMBERSHIP_PATH),
        }),
        { shutdownMs: 5000 },
      ),
      worker("reconciler", reconcilerBehaviour({ config: cfg, logger: deps.child("l4lb-reconciler"), metrics, applier: () => lookup<ApplierMsg>(APPLIER_PATH) }), { shutdownMs: 2000 }),
    ],
    { intensity: 5, periodMs: 10_000 },
  );
}
