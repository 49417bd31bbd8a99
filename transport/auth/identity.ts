// Who a credential is: a name, a role and a cluster, written into its certificate's subject DN. The
// DN is also the NATS user the server maps the certificate to (tls verify_and_map), so the text form
// here must be the one nats-server compares: RFC 2253, most specific attribute first.
import { validateId, validateNodeId } from "../subjects.js";

/** `node`: one per node id; `viewer|operator|admin`: people and tools (admin roles); `server`: a nats-server. */
export const IDENTITY_ROLES = ["node", "viewer", "operator", "admin", "server"] as const;
export type IdentityRole = (typeof IDENTITY_ROLES)[number];

/** The roles a person or tool (a `dcnet ctl`) can hold, weakest first: the admin roles of the subjects. */
export const USER_ROLES = ["viewer", "operator", "admin"] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface Identity {
  readonly name: string;
  readonly role: IdentityRole;
  readonly cluster: string;
}

/** One certificate of an identity: the serial tells certificates of one name apart (rotation, revocation). */
export interface CertIdentity extends Identity {
  /** Lower-case hex, also the DN's `serialNumber` attribute. */
  readonly serial: string;
}

export function isIdentityRole(value: unknown): value is IdentityRole {
  return typeof value === "string" && (IDENTITY_ROLES as readonly string[]).includes(value);
}

export function isUserRole(value: unknown): value is UserRole {
  return typeof value === "string" && (USER_ROLES as readonly string[]).includes(value);
}

/** Throws InvalidIdError for a name, cluster or role that cannot be a credential; returns the identity. */
export function checkIdentity<I extends Identity>(id: I): I {
  validateId(id.cluster, "cluster id");
  if (id.role === "node") validateNodeId(id.name);
  else validateId(id.name, `${id.role} name`);
  if (!isIdentityRole(id.role)) throw new TypeError(`role ${JSON.stringify(id.role)} is not one of ${IDENTITY_ROLES.join(", ")}`);
  return id;
}

/** `dcnet-<cluster>`: the organisation of every certificate of a cluster. */
export function clusterOrg(cluster: string): string {
  return `dcnet-${cluster}`;
}

const SERIAL = /^[0-9a-f]{1,40}$/;

/**
 * The NATS user of a certificate: `serialNumber=<serial>,CN=<name>,OU=<role>,O=dcnet-<cluster>`.
 * The serial makes each certificate its own user, so revoking one (a stolen key, a retired key after
 * rotation) leaves the others of that name working, and re-issuing a name never revives a revoked one.
 */
export function userDn(id: CertIdentity): string {
  if (!SERIAL.test(id.serial)) throw new TypeError(`certificate serial ${JSON.stringify(id.serial)} is not lower-case hex`);
  return `serialNumber=${id.serial},CN=${id.name},OU=${id.role},O=${clusterOrg(id.cluster)}`;
}

/** The same DN in openssl's `-subj` form (most general first); names are id-safe, so nothing needs escaping. */
export function opensslSubject(id: CertIdentity): string {
  return `/O=${clusterOrg(id.cluster)}/OU=${id.role}/CN=${id.name}/serialNumber=${id.serial}`;
}

/**
 * Reads a certificate subject as `node:crypto`'s X509Certificate prints it (`O=…\nOU=…\nCN=…\nserialNumber=…`)
 * back into an identity; undefined when it is not exactly a dcnet subject.
 */
export function parseSubject(subject: string): CertIdentity | undefined {
  const attrs = new Map<string, string>();
  for (const line of subject.split("\n")) {
    const eq = line.indexOf("=");
    if (eq <= 0 || attrs.has(line.slice(0, eq))) return undefined;
    attrs.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const org = attrs.get("O");
  const [name, role, serial] = [attrs.get("CN"), attrs.get("OU"), attrs.get("serialNumber")];
  if (attrs.size !== 4 || org === undefined || !org.startsWith("dcnet-") || name === undefined || serial === undefined || !SERIAL.test(serial)) return undefined;
  if (!isIdentityRole(role)) return undefined;
  const id: CertIdentity = { name, role, cluster: org.slice("dcnet-".length), serial };
  try {
    return checkIdentity(id);
  } catch {
    return undefined;
  }
}

/**
 * `_INBOX.<cluster>.<name>`: the reply inbox prefix of an identity (nats.js `inboxPrefix`), so its
 * permissions can let it subscribe to its own replies and nobody else's.
 */
export function inboxPrefix(cluster: string, name: string): string {
  return `_INBOX.${validateId(cluster, "cluster id")}.${validateId(name, "name")}`;
}

/**
 * The name every nats-server certificate of a cluster carries as a DNS SAN, and the one user the
 * servers' route listeners accept (cluster `authorization { user }` with `verify_and_map`): a node's or
 * a person's certificate, from the same CA, cannot join as a route and bypass its permissions.
 */
export function routesUser(cluster: string): string {
  return `routes.${clusterOrg(validateId(cluster, "cluster id"))}`;
}
