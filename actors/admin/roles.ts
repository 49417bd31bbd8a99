// Admin roles: what a caller may do. Each op declares the weakest role that may run it; a caller's
// role is the token of the subject its request arrived on (transport/subjects.ts), which NATS
// permissions grant per credential — so the subject is the authenticated role, checked here again.
import type { AdminRole } from "../../transport/index.js";

/** Weakest first: a role may do everything the roles before it may. */
const RANK: Readonly<Record<AdminRole, number>> = { viewer: 0, operator: 1, admin: 2 };

/** True when a caller with role `caller` may run an op that needs `needed`. */
export function allows(caller: AdminRole, needed: AdminRole): boolean {
  return RANK[caller] >= RANK[needed];
}

/** The one message of a denial, on the node and in `dcnet ctl`. */
export function deniedMessage(op: string, needed: AdminRole): string {
  return `permission denied: ${op} needs ${needed}`;
}
