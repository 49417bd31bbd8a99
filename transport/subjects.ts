// Every NATS subject dcnet uses is built here, so the namespace can be read (and changed) in one place.
// README.md has the table; keep the two equal.
//
// Subjects v2: a subject names who may publish on it, so NATS permissions can enforce identities
// (docs/security.md). A node publishes gossip only on subjects that end in its own id, and a caller's
// admin requests carry its role; the server grants each credential its own tokens and nothing else,
// and receivers check the envelope against the subject (subscribe's `senderToken`).
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

/**
 * The subscriber's wildcard for a sender or role token (`*`): accepted where a subject is subscribed
 * to (gossip from any node, admin requests under any role), never a real sender.
 */
export const ANY = "*";

/** Admin callers' roles, weakest first; the role token of an admin subject is one of these. */
export const ADMIN_ROLES = ["viewer", "operator", "admin"] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === "string" && (ADMIN_ROLES as readonly string[]).includes(value);
}

/** validateId plus the one reserved value: a node called `_all` would shadow the scatter-gather subjects. */
export function validateNodeId(value: string): string {
  validateId(value, "node id");
  if (value === ALL_NODES) throw new InvalidIdError("node id", value, `${ID_PATTERN.source} except "${ALL_NODES}"`);
  return value;
}

function nodeOrAny(value: string): string {
  return value === ANY ? value : validateNodeId(value);
}

function role(value: string): string {
  if (isAdminRole(value)) return value;
  throw new InvalidIdError("admin role", String(value), ADMIN_ROLES.join("|"));
}

function roleOrAny(value: string): string {
  return value === ANY ? value : role(value);
}

export interface Subjects {
  readonly cluster: string;
  /** `dcnet.<cluster>`: everything of this cluster lives below it. */
  root(): string;
  /** `dcnet.<cluster>.>`: wildcard for taps and permissions. */
  everything(): string;
  /** `dcnet.<cluster>.admin.<role>.<nodeId>`: prefix of a node's admin endpoints as a `role` caller reaches them; `ANY` role for the node's own endpoint group. */
  adminNode(role: AdminRole | typeof ANY, nodeId: string): string;
  /** `dcnet.<cluster>.admin.<role>.<nodeId>.<op>` */
  adminOp(role: AdminRole, nodeId: string, op: string): string;
  /** `dcnet.<cluster>.admin.<role>._all`: prefix of scatter-gather endpoints every node answers; `ANY` role to serve them. */
  adminAll(role: AdminRole | typeof ANY): string;
  /** `dcnet.<cluster>.admin.<role>._all.<op>` */
  adminAllOp(role: AdminRole, op: string): string;
  /** The caller's role in an admin subject of this cluster (the token after `admin`); undefined when it is none. */
  adminRoleOf(subject: string): AdminRole | undefined;
  /** `dcnet.<cluster>.gossip.hb.<from>`: membership heartbeats of node `from` (`ANY` to hear every node). */
  gossipHeartbeat(from: string): string;
  /** `dcnet.<cluster>.gossip.delta.<from>`: batches of CRDT deltas written by `from`, broadcast to all nodes. */
  gossipDelta(from: string): string;
  /** `dcnet.<cluster>.gossip.digest.<from>`: anti-entropy digests (bucket hashes) of `from`, every node. */
  gossipDigest(from: string): string;
  /** `dcnet.<cluster>.gossip.digest-request.<from>`: starting node `from` asks everyone to publish a digest now. */
  gossipDigestRequest(from: string): string;
  /** `dcnet.<cluster>.gossip.bucket.<nodeId>`: request the keys of some buckets from one node (repair, full sync); any node may ask. */
  gossipBucket(nodeId: string): string;
  /** `dcnet.<cluster>.gossip.swim.<to>.<from>`: SWIM probes, acks and push-pull between two nodes (`to`/`from` may be `ANY` to subscribe). */
  gossipSwim(to: string, from: string): string;
  /** `dcnet.<cluster>.gossip.join.<from>`: a node's push-pull to any one member (subscribed in a queue group). */
  gossipJoin(from: string): string;
  /** `dcnet.<cluster>.catalogue.register.<from>`: task registrations from NATS sources (reserved for actors/catalogue). */
  catalogueRegister(from: string): string;
}

export function subjects(cluster: string): Subjects {
  validateId(cluster, "cluster id");
  const root = `dcnet.${cluster}`;
  const node = validateNodeId;
  const adminPrefix = `${root}.admin.`;
  return {
    cluster,
    root: () => root,
    everything: () => `${root}.>`,
    adminNode: (r, nodeId) => `${root}.admin.${roleOrAny(r)}.${node(nodeId)}`,
    adminOp: (r, nodeId, op) => `${root}.admin.${role(r)}.${node(nodeId)}.${validateOp(op)}`,
    adminAll: (r) => `${root}.admin.${roleOrAny(r)}.${ALL_NODES}`,
    adminAllOp: (r, op) => `${root}.admin.${role(r)}.${ALL_NODES}.${validateOp(op)}`,
    adminRoleOf: (subject) => {
      if (!subject.startsWith(adminPrefix)) return undefined;
      const end = subject.indexOf(".", adminPrefix.length);
      const role = subject.slice(adminPrefix.length, end === -1 ? undefined : end);
      return isAdminRole(role) ? role : undefined;
    },
    gossipHeartbeat: (from) => `${root}.gossip.hb.${nodeOrAny(from)}`,
    gossipDelta: (from) => `${root}.gossip.delta.${nodeOrAny(from)}`,
    gossipDigest: (from) => `${root}.gossip.digest.${nodeOrAny(from)}`,
    gossipDigestRequest: (from) => `${root}.gossip.digest-request.${nodeOrAny(from)}`,
    gossipBucket: (nodeId) => `${root}.gossip.bucket.${node(nodeId)}`,
    gossipSwim: (to, from) => `${root}.gossip.swim.${nodeOrAny(to)}.${nodeOrAny(from)}`,
    gossipJoin: (from) => `${root}.gossip.join.${nodeOrAny(from)}`,
    catalogueRegister: (from) => `${root}.catalogue.register.${nodeOrAny(from)}`,
  };
}

/**
 * Where a subscription finds the sender's node id in a subject: `"last"` (every gossip subject) or a
 * 0-based token index.
 */
export type SenderToken = "last" | number;

/** The token of `subject` at `where` ("" when there is none). */
export function senderOf(subject: string, where: SenderToken): string {
  if (where === "last") return subject.slice(subject.lastIndexOf(".") + 1);
  return subject.split(".")[where] ?? "";
}
