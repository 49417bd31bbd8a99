// Every NATS subject dcnet uses is built here, so the namespace can be read (and changed) in one place.
// README.md has the table; keep the two equal.
import { InvalidIdError } from "./errors.js";

/** Cluster and node ids: one subject token, safe in file names and metric labels. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Operation names (last token of admin subjects). Lower-case so they read the same in CLI and subjects. */
export const OP_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** Throws InvalidIdError unless `value` is a valid cluster/node id; returns it for chaining. */
export function validateId(value: string, what = "id"): string {
  if (typeof value !== "string" || !ID_PATTERN.test(value)) throw new InvalidIdError(what, String(value), ID_PATTERN.source);
  return value;
}

function validateOp(op: string): string {
  if (typeof op !== "string" || !OP_PATTERN.test(op)) throw new InvalidIdError("operation", String(op), OP_PATTERN.source);
  return op;
}

/** Reserved token for "every node" in admin subjects; `_` is never the first char of a real scatter target. */
export const ALL_NODES = "_all";

/** validateId plus the one reserved value: a node called `_all` would shadow the scatter-gather subjects. */
export function validateNodeId(value: string): string {
  validateId(value, "node id");
  if (value === ALL_NODES) throw new InvalidIdError("node id", value, `${ID_PATTERN.source} except "${ALL_NODES}"`);
  return value;
}

export interface Subjects {
  readonly cluster: string;
  /** `dcnet.<cluster>`: everything of this cluster lives below it. */
  root(): string;
  /** `dcnet.<cluster>.>`: wildcard for taps and permissions. */
  everything(): string;
  /** `dcnet.<cluster>.admin.<nodeId>`: prefix of the node's admin micro service endpoints. */
  adminNode(nodeId: string): string;
  /** `dcnet.<cluster>.admin.<nodeId>.<op>` */
  adminOp(nodeId: string, op: string): string;
  /** `dcnet.<cluster>.admin._all`: prefix of scatter-gather endpoints every node answers. */
  adminAll(): string;
  /** `dcnet.<cluster>.admin._all.<op>` */
  adminAllOp(op: string): string;
  /** `dcnet.<cluster>.gossip.hb`: membership heartbeats, every node. */
  gossipHeartbeat(): string;
  /** `dcnet.<cluster>.gossip.delta`: batches of CRDT deltas broadcast to all nodes. */
  gossipDelta(): string;
  /** `dcnet.<cluster>.gossip.digest`: anti-entropy digests (bucket hashes), every node. */
  gossipDigest(): string;
  /** `dcnet.<cluster>.gossip.digest-request`: a starting node asks everyone to publish a digest now. */
  gossipDigestRequest(): string;
  /** `dcnet.<cluster>.gossip.bucket.<nodeId>`: request the keys of some buckets from one node (repair, full sync). */
  gossipBucket(nodeId: string): string;
  /** `dcnet.<cluster>.catalogue.register`: task registrations from NATS sources (reserved for actors/catalogue). */
  catalogueRegister(): string;
}

export function subjects(cluster: string): Subjects {
  validateId(cluster, "cluster id");
  const root = `dcnet.${cluster}`;
  const node = validateNodeId;
  return {
    cluster,
    root: () => root,
    everything: () => `${root}.>`,
    adminNode: (nodeId) => `${root}.admin.${node(nodeId)}`,
    adminOp: (nodeId, op) => `${root}.admin.${node(nodeId)}.${validateOp(op)}`,
    adminAll: () => `${root}.admin.${ALL_NODES}`,
    adminAllOp: (op) => `${root}.admin.${ALL_NODES}.${validateOp(op)}`,
    gossipHeartbeat: () => `${root}.gossip.hb`,
    gossipDelta: () => `${root}.gossip.delta`,
    gossipDigest: () => `${root}.gossip.digest`,
    gossipDigestRequest: () => `${root}.gossip.digest-request`,
    gossipBucket: (nodeId) => `${root}.gossip.bucket.${node(nodeId)}`,
    catalogueRegister: () => `${root}.catalogue.register`,
  };
}
