// Public door of the overlay (README.md): the subtree and its applier's messages. Nothing else in
// overlay/ may be imported from outside it (admin ops: ops.ts; config: config.ts; vocabulary: model.ts).
export { overlayTreeSpec, OVERLAY, OVERLAY_APPLIER_PATH } from "./overlay.sup.js";
export type { OverlayDeps } from "./overlay.sup.js";
export { overlayApplierBehaviour } from "./applier.actor.js";
export type { OverlayApplierMsg, OverlayStatus } from "./applier.actor.js";
export { claimBehaviour } from "./claim.actor.js";
export { overlayDockerBehaviour } from "./docker.actor.js";
export { cniNetworkConfig } from "./cni-config.js";
// The renderer (pure) and the ip/bridge runner: the kernel test drives them directly in namespaces.
export { overlayDesired } from "./render/desired.js";
export type { OverlayDesiredOptions, OverlayDesiredResult, SkippedPeer, SkipReason } from "./render/desired.js";
export { setupOps, peerOps, setupPlan, peerPlan, batchTexts, entryPlan, peerEntries } from "./render/ops.js";
export type { OverlayOp, BatchTexts, PeerEntries, RouteTo } from "./render/ops.js";
export { parseOverlay, compareOverlay } from "./render/readback.js";
export { ipBatch, bridgeBatch, readOverlay } from "./kernel/ip.js";
export { OverlayError, OverlayConfigError, OverlayOwnInvalidError, IpToolMissingError, IpBatchError, IpTimeoutError, IpListingError } from "./errors.js";
