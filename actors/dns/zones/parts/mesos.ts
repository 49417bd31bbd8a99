// The `.mesos` zone part (and its mirror `mesos.thisdcos.directory`): the record sets the node that
// follows the leading master publishes under `dns/mesos/<name>` (../../mesos-records/), folded by
// name and built with ../mesos.ts. Registered only when dns.mesos.mode is native.
import type { WatchEvent } from "../../../gossip/index.js";
import type { DnsRecord } from "../../mesos-dns/generate.js";
import { MESOS_MIRROR_ORIGIN, mesosZones } from "../mesos.js";
import type { ZonePart } from "../part.js";
import { MESOS_RECORDS_PREFIX, decodeRrs } from "./inputs.js";

/** `.mesos` records by owner name. */
export type MesosInputs = Map<string, DnsRecord[]>;

interface MesosPartOptions {
  /** `dns.mesos.domain` ("mesos"). */
  readonly domain: string;
  /** `dns.mesos.ttl`: Mesos-DNS's TTL on the `<domain>` zone (the mirror takes `dns.ttl`). */
  readonly ttl: number;
  readonly mirror: boolean;
  readonly compat: boolean;
}

/** Folds one store event into the records; true when it changed them. */
export function foldMesos(records: MesosInputs, ev: WatchEvent): boolean {
  if (!ev.key.startsWith(MESOS_RECORDS_PREFIX)) return false;
  const name = ev.key.slice(MESOS_RECORDS_PREFIX.length);
  const rrs = decodeRrs(name, ev.value);
  if (rrs.length > 0) records.set(name, rrs);
  else if (!records.delete(name)) return false;
  return true;
}

export function mesosPart(m: MesosPartOptions): ZonePart<MesosInputs> {
  return {
    name: "mesos",
    origins: m.mirror ? [m.domain, MESOS_MIRROR_ORIGIN] : [m.domain],
    watch: [MESOS_RECORDS_PREFIX],
    init: () => new Map(),
    fold: foldMesos,
    build: (records, ctx) => mesosZones([...records.values()].flat(), { domain: m.domain, ttl: m.ttl, mirror: m.mirror, compat: m.compat, serial: ctx.defaults.serial, mirrorTtl: ctx.defaults.ttl }),
  };
}
