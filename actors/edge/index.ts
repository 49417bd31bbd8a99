// Public door of the edge (README.md): its subtree, the actor's messages and status, where pools live
// in the store, and the pure pieces the bench drives directly (model, renderer, planner). Nothing else
// in edge/ may be imported from outside it (admin ops: ops.ts; config: config.ts).
export { edgeTreeSpec, EDGE, EDGE_PATH } from "./edge.sup.js";
export type { EdgeDeps } from "./edge.sup.js";
export { edgeBehaviour, POOLS_PREFIX } from "./edge.actor.js";
export type { EdgeMsg, EdgeStatus } from "./edge.actor.js";
export { buildModel } from "./plan/desired.js";
export type { DesiredOptions } from "./plan/desired.js";
export { render, reloadReason } from "./plan/render.js";
export type { RenderOptions, Slots } from "./plan/render.js";
export { plan } from "./plan/planner.js";
export { readPool, poolSchema } from "./plan/pool.js";
export type { Pool } from "./plan/pool.js";
export type { EdgeModel, EdgeTask } from "./plan/types.js";
export { validateConfig, startHaproxy, procInfo, reloadHaproxy } from "./haproxy/process.js";
export { runtimeCommands, masterCommand, parseShowProc, parseStat } from "./haproxy/runtime.js";
