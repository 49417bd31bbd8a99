// DNS's admin ops: the records of this node's zones, and a lookup that sends a real query to this
// node's own UDP listener, so the operator sees exactly what a client gets (zones, forwarding,
// cache, rotation), not a second code path. Declarations only at import time (zod and types):
// `dcnet ctl` loads this; the lookup loads its DNS codec when it runs.
import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import { z } from "zod";
import type { Answer, RecordType } from "dns-packet";
import { AdminOpError, ADMIN_ERRORS, cliGroup, defineOp } from "../admin/ops.js";
import type { ZoneMsg, UdpMsg, ZoneRow, ResolverHostMsg, ResolverHostStatus } from "./index.js";

const ASK_TIMEOUT_MS = 10_000;
const DNS_GROUP = cliGroup("dns", "DNS on a node: its zones, and lookups through its own listener");
/** Why a DNS actor can be missing; said in the 503. */
const ABSENT = "dns.enabled false, or restarting";

// Where dns.sup.ts mounts the actors these ops ask. Loaded when a handler runs, not imported: the
// sup brings the listeners' and zones' code, which `dcnet ctl` never needs.
async function mounts(): Promise<{ readonly zone: string; readonly udp0: string; readonly resolverHost: string }> {
  const { DNS } = await import("./dns.sup.js");
  return { zone: `/node/${DNS}/zone`, udp0: `/node/${DNS}/udp-0`, resolverHost: `/node/${DNS}/resolver-host` };
}

const zoneRow = z.strictObject({ name: z.string(), type: z.string(), ttl: z.number(), data: z.string() });
const dnsName = z.string().min(1).max(253).regex(/^[A-Za-z0-9_*.-]+\.?$/, "a domain name");

export const dnsRecords = defineOp({
  name: "dns-records",
  role: "viewer",
  request: z.strictObject({ zone: dnsName.optional() }),
  reply: z.strictObject({ node: z.string(), zones: z.array(z.string()), rows: z.array(zoneRow) }),
  async handle({ zone }, ctx) {
    const ref = ctx.actor<ZoneMsg>((await mounts()).zone, ABSENT);
    const r = await ref.ask<{ zones: readonly string[]; rows: readonly ZoneRow[] }>((reply) => ({ type: "records", ...(zone ? { zone } : {}), reply }), ASK_TIMEOUT_MS);
    if (zone && !r.zones.includes(zone.toLowerCase().replace(/\.$/, ""))) {
      throw new AdminOpError(ADMIN_ERRORS.badRequest, `no zone ${zone} on this node; zones: ${r.zones.join(", ")}`, 404);
    }
    return { node: ctx.config.id, zones: [...r.zones], rows: r.rows.map((row) => ({ ...row })) };
  },
  cli: [
    {
      group: DNS_GROUP,
      command: "records [zone]",
      description: "every record of a zone (default: all zones) in zone-file form",
      request: (a) => {
        const zone = a.optionalArg(0);
        return zone ? { zone } : {};
      },
    },
  ],
  human: (d) => (d.rows.length === 0 ? `(no records; zones on ${d.node}: ${d.zones.join(", ")})` : zoneLines(d.rows).join("\n")),
  summary: (d) => `${d.rows.length} records in ${d.zones.length} zones`,
});

/** Zone file presentation: `name. TTL IN TYPE data`, the way dig prints records. */
function zoneLines(rows: ReadonlyArray<z.output<typeof zoneRow>>): string[] {
  return rows.map((r) => `${r.name.replace(/\.?$/, ".")}\t${r.ttl}\tIN\t${r.type}\t${r.data}`);
}

export const dnsLookup = defineOp({
  name: "dns-lookup",
  role: "viewer",
  request: z.strictObject({ name: dnsName, type: z.string().regex(/^[A-Za-z0-9]{1,10}$/, "a record type such as A, AAAA, SRV") }),
  reply: z.strictObject({
    node: z.string(),
    server: z.string(),
    rcode: z.string(),
    flags: z.array(z.string()),
    ms: z.number(),
    answers: z.array(zoneRow),
    authority: z.array(zoneRow),
    additional: z.array(zoneRow),
  }),
  async handle({ name, type }, ctx) {
    const ref = ctx.actor<UdpMsg>((await mounts()).udp0, ABSENT);
    const server = await ref.ask<string>((reply) => ({ type: "address", reply }), ASK_TIMEOUT_MS);
    return { node: ctx.config.id, ...(await lookup(server, name, type)) };
  },
  cli: [
    {
      group: DNS_GROUP,
      command: "lookup <name> [type]",
      description: "ask the node's DNS listener (zones, forwarding, cache), like dig; type defaults to A",
      request: (a) => ({ name: a.arg(0), type: a.optionalArg(1) ?? "A" }),
    },
  ],
  human: (d) => {
    const section = (title: string, rows: ReadonlyArray<z.output<typeof zoneRow>>) => (rows.length ? [`;; ${title}`, ...zoneLines(rows)] : []);
    return [
      `;; ${d.rcode}${d.flags.length ? ` (${d.flags.join(" ")})` : ""} from ${d.server} on ${d.node} in ${d.ms} ms`,
      ...section("ANSWER", d.answers),
      ...section("AUTHORITY", d.authority),
      ...section("ADDITIONAL", d.additional),
    ].join("\n");
  },
  summary: (d) => `${d.rcode}, ${d.answers.length} answers`,
});

/** A record as the lookup saw it on the wire (any type, not only those dcnet serves). */
interface WireRow {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly data: string;
}

interface LookupResult {
  readonly rcode: string;
  readonly flags: string[];
  readonly answers: WireRow[];
  readonly authority: WireRow[];
  readonly additional: WireRow[];
  readonly server: string;
  readonly ms: number;
}

function rows(records: readonly Answer[] | undefined): WireRow[] {
  return (records ?? [])
    .filter((a) => a.type !== "OPT")
    .map((a) => ({ name: a.name, type: a.type, ttl: "ttl" in a && typeof a.ttl === "number" ? a.ttl : 0, data: presentation(a) }));
}

function presentation(a: Answer): string {
  switch (a.type) {
    case "SRV":
      return `${a.data.priority ?? 0} ${a.data.weight ?? 0} ${a.data.port} ${a.data.target}.`;
    case "SOA":
      return `${a.data.mname}. ${a.data.rname}. ${a.data.serial ?? 0} ${a.data.refresh ?? 0} ${a.data.retry ?? 0} ${a.data.expire ?? 0} ${a.data.minimum ?? 0}`;
    case "CNAME":
    case "NS":
    case "PTR":
      return `${a.data}.`;
    default:
      return typeof (a as { data?: unknown }).data === "string" ? ((a as { data: string }).data) : JSON.stringify((a as { data?: unknown }).data);
  }
}

/** One query to the listener at `server` (its `ip:port`), decoded for the reply. */
async function lookup(server: string, name: string, type: string): Promise<LookupResult> {
  const dnsPacket = await import("dns-packet");
  const { splitListen } = await import("../../config/index.js");
  const { host, port } = splitListen(server);
  const target = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const query = dnsPacket.encode({
    type: "query",
    id: Math.floor(Math.random() * 65536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: type.toUpperCase() as RecordType, class: "IN", name: name.replace(/\.$/, "") }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096, flags: 0, options: [] } as unknown as Answer],
  });
  const started = Date.now();
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const sock = createSocket(isIPv6(target) ? "udp6" : "udp4");
    const timer = setTimeout(() => {
      sock.close();
      reject(new AdminOpError(ADMIN_ERRORS.unavailable, `no answer from ${server} within 8 s`, 504));
    }, 8000);
    sock.on("message", (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(msg);
    });
    sock.send(query, port, target);
  });
  const p = dnsPacket.decode(reply);
  const flags = [
    ...((p.flags ?? 0) & dnsPacket.AUTHORITATIVE_ANSWER ? ["aa"] : []),
    ...((p.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE ? ["tc"] : []),
    ...((p.flags ?? 0) & dnsPacket.RECURSION_AVAILABLE ? ["ra"] : []),
  ];
  // dns-packet decodes the header's rcode, though its type declarations leave it out.
  const rcode = (p as { rcode?: string }).rcode ?? "NOERROR";
  return { rcode, flags, answers: rows(p.answers), authority: rows(p.authorities), additional: rows(p.additionals), server, ms: Date.now() - started };
}

const resolverAddress = z.strictObject({
  address: z.string(),
  state: z.enum(["added", "owned", "adopted", "conflict", "failed"]),
  detail: z.string().optional(),
  udp: z.boolean(),
  tcp: z.boolean(),
  problem: z.string().optional(),
});

export const dnsHost = defineOp({
  name: "dns-host",
  role: "viewer",
  request: z.strictObject({}),
  reply: z.strictObject({
    node: z.string(),
    addresses: z.array(resolverAddress),
    resolvConf: z.strictObject({ managed: z.boolean(), path: z.string(), backupPath: z.string(), state: z.enum(["off", "installed", "failed", "restored"]), error: z.string().optional() }),
  }),
  async handle(_req, ctx) {
    const ref = ctx.actor<ResolverHostMsg>((await mounts()).resolverHost, "dns.resolver.enabled and dns.manageResolvConf are both false, or restarting");
    const r = await ref.ask<ResolverHostStatus>((reply) => ({ type: "status", reply }), ASK_TIMEOUT_MS);
    return { node: ctx.config.id, addresses: r.addresses.map((a) => ({ ...a })), resolvConf: { ...r.resolvConf } };
  },
  cli: [{ group: DNS_GROUP, command: "host", description: "the node's resolver addresses (on lo, answering UDP/TCP) and the host's resolv.conf", request: () => ({}) }],
  human: (d) =>
    [
      ...d.addresses.map((a) => `${a.address}\t${a.state}\tudp ${a.udp ? "yes" : "no"}\ttcp ${a.tcp ? "yes" : "no"}${a.detail ? `\t${a.detail}` : ""}${a.problem ? `\t${a.problem}` : ""}`),
      `resolv.conf ${d.resolvConf.path}: ${d.resolvConf.managed ? d.resolvConf.state : "not managed"}${d.resolvConf.error ? ` (${d.resolvConf.error})` : ""}`,
    ].join("\n"),
  summary: (d) => `${d.addresses.filter((a) => a.udp && a.tcp).length}/${d.addresses.length} resolver addresses served, resolv.conf ${d.resolvConf.state}`,
});

/** DNS's ops, in `dcnet ctl --help` order. */
export const DNS_OPS = [dnsRecords, dnsLookup, dnsHost] as const;
