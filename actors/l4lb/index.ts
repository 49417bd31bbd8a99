// Public door of the L4LB (README.md): the subtree, the names board DNS reads through the zone
// part, and the one-shot cleanup `dcnet node --l4lb-cleanup` runs. Also its actors' behaviours and
// its pure renderer and kernel runners: the kernel tests and bench/l4lb-* drive them directly (in a
// network namespace, with a stand-in VIP table). Nothing else in l4lb/ may be imported from outside
// it (admin ops: ops.ts; config: config.ts; vocabulary: model.ts).
export { l4lbTreeSpec, L4LB, APPLIER_PATH } from "./l4lb.sup.js";
export type { L4lbDeps } from "./l4lb.sup.js";
export { NamesBoard, samePublished } from "./names-board.js";
export type { PublishedName, PublishedNames } from "./names-board.js";
export { l4lbZonePart } from "./zone-part.js";
export { removeL4lbTables } from "./cleanup.js";
export { L4lbError, L4lbDependencyError, NftMissingError, NftRejectedError, NftTimeoutError, NftOutputError } from "./errors.js";
export { allocatorBehaviour } from "./allocator.actor.js";
export type { AllocatorMsg, AllocatorView, AllocatorStatus, AllocatorDeps } from "./allocator.actor.js";
export { applierBehaviour } from "./applier.actor.js";
export type { ApplierMsg, ApplierStatus, ApplierDeps } from "./applier.actor.js";
export { reconcilerBehaviour } from "./reconciler.actor.js";
export type { ReconcilerMsg, ReconcileResult } from "./reconciler.actor.js";
export { NAMED_VIP_BUCKET } from "./names/bucket.js";
// The renderer (pure) and the kernel runners.
export { desiredState, desiredStateFrom } from "./render/desired.js";
export type { DesiredInput, DesiredResult, VipView } from "./render/desired.js";
export { renderFull, renderDelta, renderCleanup } from "./render/nft.js";
export type { RenderOptions } from "./render/nft.js";
export { parseKernel, compareKernel } from "./render/readback.js";
export type { ObservedKernel } from "./render/readback.js";
export { conntrackFlushes } from "./render/conntrack-plan.js";
export type { CtFlush } from "./render/conntrack-plan.js";
export { nftApply, nftListTable } from "./kernel/nft.js";
export { conntrackFlush } from "./kernel/conntrack.js";
