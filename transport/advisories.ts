// NATS client connect/disconnect advisories, read as "node X's connection opened/closed". The server
// publishes them in its system account (`$SYS.ACCOUNT.<account>.CONNECT|DISCONNECT`); a node sees them
// only where the server's config exports them into the node's account (docs/security.md,
// "Disconnect advisories"). Raw JSON from the server, not dcnet envelopes: checked here at the border
// like every other message, and counted when malformed.
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { z } from "zod";
import type { RejectCounter } from "./rejects.js";
import { ID_PATTERN } from "./subjects.js";
import type { TransportSubscription } from "./subscribe.js";

/** The kind advisories are counted under in `dcnet_transport_rejected_messages_total`. */
export const ADVISORY_KIND = "nats.advisory";

/** Subjects of the two advisories, any account (a node's account sees only what was imported into it). */
export const ADVISORY_SUBJECTS = { connect: "$SYS.ACCOUNT.*.CONNECT", disconnect: "$SYS.ACCOUNT.*.DISCONNECT" } as const;

export interface ClientAdvisory {
  readonly type: "connect" | "disconnect";
  readonly node: string;
  /** The server's reason for a disconnect (`Client Closed`, `Read Error`, `Slow Consumer (Write Deadline)`, …); "" for a connect. */
  readonly reason: string;
}

/**
 * The NATS connection name of a node: `dcnet.<cluster>.<node>`. Ids never contain a dot, so the
 * name says both which cluster and which node, and a connection of another dcnet cluster on the same
 * servers (or a CLI, a bench host) is never taken for one of ours.
 */
export function connectionName(cluster: string, nodeId: string): string {
  return `dcnet.${cluster}.${nodeId}`;
}

/** The node a connection name belongs to in `cluster`, or undefined for any other client. */
export function nodeOfConnection(cluster: string, name: string | undefined): string | undefined {
  const prefix = `dcnet.${cluster}.`;
  if (name === undefined || !name.startsWith(prefix)) return undefined;
  const node = name.slice(prefix.length);
  return ID_PATTERN.test(node) ? node : undefined;
}

const TYPES = { "io.nats.server.advisory.v1.client_connect": "connect", "io.nats.server.advisory.v1.client_disconnect": "disconnect" } as const;

const advisorySchema = z.object({
  type: z.enum(Object.keys(TYPES) as [keyof typeof TYPES, ...Array<keyof typeof TYPES>]),
  client: z.object({ name: z.string().max(1024).optional(), user: z.string().max(4096).optional() }),
  reason: z.string().max(1024).optional(),
});

export type AdvisoryParse = { readonly ok: true; readonly advisory: ClientAdvisory | undefined } | { readonly ok: false; readonly reason: "undecodable" | "invalid-body" | "forged-sender"; readonly message: string };

/**
 * One advisory's bytes → the node it is about (undefined: a client that is not a node of `cluster`).
 * Where the server maps TLS certificates to users, the user is a dcnet DN
 * (`serialNumber=…,CN=<name>,OU=<role>,O=dcnet-<cluster>`): the name a client chose for its connection
 * must then be its certificate's node, or a viewer could name itself after a node and close its
 * connection to get that node suspected.
 */
export function parseAdvisory(cluster: string, data: Uint8Array): AdvisoryParse {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    return { ok: false, reason: "undecodable", message: `advisory is not JSON: ${(err as Error).message}` };
  }
  const r = advisorySchema.safeParse(json);
  if (!r.success) return { ok: false, reason: "invalid-body", message: `advisory: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}` };
  const node = nodeOfConnection(cluster, r.data.client.name);
  if (node === undefined) return { ok: true, advisory: undefined };
  const dn = dcnetUser(r.data.client.user);
  if (dn !== undefined && (dn.role !== "node" || dn.name !== node || dn.org !== `dcnet-${cluster}`)) {
    return { ok: false, reason: "forged-sender", message: `connection named ${JSON.stringify(r.data.client.name)} belongs to user ${JSON.stringify(r.data.client.user)}, not to node ${node}` };
  }
  return { ok: true, advisory: { type: TYPES[r.data.type], node, reason: r.data.type === "io.nats.server.advisory.v1.client_disconnect" ? (r.data.reason ?? "") : "" } };
}

/** A certificate-mapped user in dcnet's DN form (RFC 2253, most specific first), else undefined. */
function dcnetUser(user: string | undefined): { name: string; role: string; org: string } | undefined {
  if (user === undefined) return undefined;
  const attrs = new Map(user.split(",").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)] as const));
  const [name, role, org] = [attrs.get("CN"), attrs.get("OU"), attrs.get("O")];
  if (name === undefined || role === undefined || org === undefined || !org.startsWith("dcnet-")) return undefined;
  return { name, role, org };
}

/** Subscribes to both advisories; `handler` sees only those about nodes of `cluster`. */
export function subscribeAdvisories(nc: NatsConnection, rejects: RejectCounter, cluster: string, handler: (a: ClientAdvisory) => void): TransportSubscription {
  const onMsg = (err: Error | null, msg: Msg): void => {
    if (err !== null) return;
    const r = parseAdvisory(cluster, msg.data);
    if (!r.ok) {
      rejects.record({ kind: ADVISORY_KIND, reason: r.reason, message: r.message, subject: msg.subject });
      return;
    }
    if (r.advisory !== undefined) handler(r.advisory);
  };
  const subs = [nc.subscribe(ADVISORY_SUBJECTS.connect, { callback: onMsg }), nc.subscribe(ADVISORY_SUBJECTS.disconnect, { callback: onMsg })];
  return { unsubscribe: () => subs.forEach((s) => s.unsubscribe()) };
}
