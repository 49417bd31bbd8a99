// What each identity may do on the bus, as NATS permissions, and the users fragment (`nats-auth.conf`)
// a nats-server includes. Pure: identities in, text out. Every subject comes from subjects.ts, so a
// change of the namespace changes the permissions with it (permissions.test.ts pins the result).
import { subjects, ANY } from "../subjects.js";
import { ADVISORY_SUBJECTS } from "../advisories.js";
import { inboxPrefix, userDn, type CertIdentity, type Identity, type UserRole } from "./identity.js";

export interface Permissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  /** The identity may answer requests it received (once each, to the request's reply subject). */
  readonly allowResponses: boolean;
}

export interface PermissionOptions {
  /**
   * JetStream KV buckets a node may use (transport's KvAllocator): each adds the JetStream API calls
   * on its stream `KV_<bucket>` and its `$KV.<bucket>.>` keys. Without it a node credential gets no
   * JetStream at all (cannot create, read or delete any stream); `dcnet creds` and `dcnet up` grant
   * the L4LB's named-VIP bucket (cli/creds.command.ts NODE_GRANTS).
   */
  readonly kvBuckets?: readonly string[];
}

/** The micro service framework's discovery subjects (`nats micro ls/info/stats`), which the admin service answers. */
const SERVICE_DISCOVERY = "$SRV.>";

/** The identity's permissions; a server identity has none (servers do not connect as clients). */
export function permissionsFor(id: Identity, opts: PermissionOptions = {}): Permissions {
  switch (id.role) {
    case "node":
      return nodePermissions(id.cluster, id.name, opts.kvBuckets ?? []);
    case "viewer":
    case "operator":
    case "admin":
      return userPermissions(id.cluster, id.name, id.role);
    case "server":
      return { publish: [], subscribe: [], allowResponses: false };
  }
}

/**
 * A node publishes only on subjects that carry its own id (gossip) or that any node may use (bucket
 * requests to a peer), answers requests through `allow_responses`, and hears gossip from everyone,
 * bucket requests to itself, admin requests to itself or to all, its own replies, and the server's
 * client connect/disconnect advisories (gossip.disconnectAdvisories; imported into the account below).
 */
function nodePermissions(cluster: string, id: string, kvBuckets: readonly string[]): Permissions {
  const s = subjects(cluster);
  return {
    publish: [
      s.gossipHeartbeat(id),
      s.gossipDelta(id),
      s.gossipDigest(id),
      s.gossipDigestRequest(id),
      withLastToken(s.gossipBucket(id), ANY),
      s.gossipSwim(ANY, id),
      s.gossipJoin(id),
      ...kvBuckets.flatMap(kvPublish),
    ],
    subscribe: [
      s.gossipHeartbeat(ANY),
      s.gossipDelta(ANY),
      s.gossipDigest(ANY),
      s.gossipDigestRequest(ANY),
      s.gossipBucket(id),
      s.gossipSwim(id, ANY),
      s.gossipJoin(ANY),
      `${s.adminNode(ANY, id)}.>`,
      `${s.adminAll(ANY)}.>`,
      SERVICE_DISCOVERY,
      `${inboxPrefix(cluster, id)}.>`,
      ADVISORY_SUBJECTS.connect,
      ADVISORY_SUBJECTS.disconnect,
    ],
    allowResponses: true,
  };
}

/** A person or tool publishes admin requests under its own role and every weaker one, and hears its replies. */
function userPermissions(cluster: string, name: string, role: UserRole): Permissions {
  const s = subjects(cluster);
  const roles: readonly UserRole[] = role === "viewer" ? ["viewer"] : role === "operator" ? ["viewer", "operator"] : ["viewer", "operator", "admin"];
  return {
    publish: roles.map((r) => `${withoutLastToken(s.adminAll(r))}.>`),
    subscribe: [`${inboxPrefix(cluster, name)}.>`],
    allowResponses: false,
  };
}

/** What KvAllocator does on one bucket: create/read its stream, direct gets, key iteration (ordered consumers), writes. */
function kvPublish(bucket: string): string[] {
  if (!/^[-\w]+$/.test(bucket)) throw new TypeError(`KV bucket ${JSON.stringify(bucket)} is not [-_A-Za-z0-9]+`);
  const stream = `KV_${bucket}`;
  return [
    "$JS.API.INFO",
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$KV.${bucket}.>`,
  ];
}

function withLastToken(subject: string, token: string): string {
  return `${withoutLastToken(subject)}.${token}`;
}

function withoutLastToken(subject: string): string {
  return subject.slice(0, subject.lastIndexOf("."));
}

export interface UsersFragmentOptions extends PermissionOptions {
  /** Listed in a comment, so a reader sees who was revoked and when. */
  readonly revoked?: readonly { readonly name: string; readonly serial: string; readonly revokedAt: string }[];
  /** Seconds a client has to complete its TLS handshake and CONNECT. Default 2. */
  readonly authTimeoutS?: number;
}

/** The account every dcnet user is in (`nats-auth.conf`): its advisories are `$SYS.ACCOUNT.DCNET.*`. */
export const DCNET_ACCOUNT = "DCNET";

/**
 * The `nats-auth.conf` text: the account `DCNET` with one user per live certificate, keyed by its DN
 * (`tls { verify_and_map: true }` in the server config maps a client certificate to it), JetStream on,
 * and the client connect/disconnect advisories of `DCNET` imported from the system account `SYS`
 * (what gossip.disconnectAdvisories listens to: a crashed node is known the moment its connection
 * closes). Server certificates get no user. Identities are sorted, so the text is stable.
 */
export function renderUsers(cluster: string, certs: readonly CertIdentity[], opts: UsersFragmentOptions = {}): string {
  const users = certs.filter((c) => c.role !== "server" && c.cluster === cluster).sort((a, b) => a.name.localeCompare(b.name) || a.serial.localeCompare(b.serial));
  const advisories = [ADVISORY_SUBJECTS.connect, ADVISORY_SUBJECTS.disconnect].map((x) => x.replace("*", DCNET_ACCOUNT));
  const lines = [
    `# dcnet users of cluster "${cluster}": generated by \`dcnet creds\` from issued.json; do not edit, regenerate.`,
    "# Include it in the nats-server config next to `tls { verify_and_map: true ... }` and reload the server after a change.",
    ...(opts.revoked ?? []).map((r) => `# revoked: ${r.name} serial ${r.serial} at ${r.revokedAt}`),
    "authorization {",
    `  timeout: ${opts.authTimeoutS ?? 2}`,
    "}",
    "system_account: SYS",
    "accounts {",
    `  SYS { exports = [${advisories.map((x) => `{ stream: ${JSON.stringify(x)} }`).join(", ")}] }`,
    `  ${DCNET_ACCOUNT} {`,
    "    jetstream: enabled",
    `    imports = [${advisories.map((x) => `{ stream: { account: SYS, subject: ${JSON.stringify(x)} } }`).join(", ")}]`,
    "    users = [",
    ...users.map((c) => renderUser(c, permissionsFor(c, opts)).replace(/^/gm, "  ")),
    "    ]",
    "  }",
    "}",
  ];
  return lines.join("\n") + "\n";
}

function renderUser(c: CertIdentity, p: Permissions): string {
  const list = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(", ")}]`;
  return [
    `    # ${c.role} ${c.name}`,
    `    { user: ${JSON.stringify(userDn(c))}`,
    "      permissions: {",
    `        publish: { allow: ${list(p.publish)} }`,
    `        subscribe: { allow: ${list(p.subscribe)} }`,
    ...(p.allowResponses ? ["        allow_responses: true"] : []),
    "      } }",
  ].join("\n");
}
