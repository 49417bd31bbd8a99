// Admin operations on DNS: the records of this node's zones, and a lookup that sends a real query
// to this node's own UDP listener, so the operator sees exactly what a client gets (zones,
// forwarding, cache, rotation), not a second code path.
import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import * as dnsPacket from "dns-packet";
import type { Tree } from "../../supervisors/index.js";
import type { ZoneMsg } from "../dns/index.js";
import type { UdpMsg } from "../dns/index.js";
import type { ZoneRow } from "../dns/index.js";
import { splitListen } from "../../config/index.js";
import { ADMIN_ERRORS } from "./protocol.js";
import { AdminOpError } from "./errors.js";

export const ZONE_PATH = "/node/dns/zone";
const UDP0_PATH = "/node/dns/udp-0";
const ASK_TIMEOUT_MS = 10_000;

/** A record as the lookup saw it on the wire (any type, not only those dcnet serves). */
export interface WireRow {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly data: string;
}

export interface LookupResult {
  readonly rcode: string;
  readonly flags: string[];
  readonly answers: WireRow[];
  readonly authority: WireRow[];
  readonly additional: WireRow[];
  readonly server: string;
  readonly ms: number;
}

function unavailable(path: string): never {
  throw new AdminOpError(ADMIN_ERRORS.unavailable, `${path} is not running on this node (dns.enabled false, or restarting)`, 503);
}

export async function dnsRecords(tree: Tree | undefined, zone: string | undefined): Promise<{ zones: string[]; rows: ZoneRow[] }> {
  const ref = tree?.lookup<ZoneMsg>(ZONE_PATH) ?? unavailable(ZONE_PATH);
  const r = await ref.ask<{ zones: readonly string[]; rows: readonly ZoneRow[] }>((reply) => ({ type: "records", ...(zone ? { zone } : {}), reply }), ASK_TIMEOUT_MS);
  if (zone && !r.zones.includes(zone.toLowerCase().replace(/\.$/, ""))) {
    throw new AdminOpError(ADMIN_ERRORS.badRequest, `no zone ${zone} on this node; zones: ${r.zones.join(", ")}`, 404);
  }
  return { zones: [...r.zones], rows: r.rows.map((row) => ({ ...row })) };
}

function rows(records: readonly dnsPacket.Answer[] | undefined): WireRow[] {
  return (records ?? [])
    .filter((a) => a.type !== "OPT")
    .map((a) => ({ name: a.name, type: a.type, ttl: "ttl" in a && typeof a.ttl === "number" ? a.ttl : 0, data: presentation(a) }));
}

function presentation(a: dnsPacket.Answer): string {
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

export async function dnsLookup(tree: Tree | undefined, name: string, type: string): Promise<LookupResult> {
  const ref = tree?.lookup<UdpMsg>(UDP0_PATH) ?? unavailable(UDP0_PATH);
  const server = await ref.ask<string>((reply) => ({ type: "address", reply }), ASK_TIMEOUT_MS);
  const { host, port } = splitListen(server);
  const target = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const query = dnsPacket.encode({
    type: "query",
    id: Math.floor(Math.random() * 65536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: type.toUpperCase() as dnsPacket.RecordType, class: "IN", name: name.replace(/\.$/, "") }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096, flags: 0, options: [] } as unknown as dnsPacket.Answer],
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
