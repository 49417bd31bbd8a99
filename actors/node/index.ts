// Public door of the node (README.md): start one node, and its root tree.
export { startNode } from "./run.js";
export type { NodeHandle, StartNodeOptions } from "./run.js";
export { nodeTreeSpec } from "./node.sup.js";
export type { NodeTreeDeps } from "./node.sup.js";
