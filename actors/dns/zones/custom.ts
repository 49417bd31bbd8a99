// Operator-defined CNAME zones under thisdcos.directory (dcos-net `dcos_dns.zones`, built by
// dcos_dns_sup.erl custom_zones_setup/0). dcos-net crashes the node on a bad entry; dcnet
// reports it through the config validator instead, and at build time skips what is invalid.
import { z } from "zod";
import { ZoneBuilder, type ZoneOptions } from "./builder.js";
import { dcosLabel } from "../../catalogue/model.js";
import { nameProblem, normalizeName } from "./names.js";
import type { Zone } from "./types.js";

const recordSchema = z.strictObject({
  /** Only "cname" (any case) is accepted; other types are reported by the validator. */
  type: z.string().min(1).max(16),
  /** One label, mangled like a task name ("my.registry" → "my-registry"). */
  name: z.string().min(1).max(253),
  /** The CNAME target, a full name. */
  value: z.string().min(1).max(254),
});

const shapeSchema = z.record(z.string().min(1).max(254), z.array(recordSchema).max(10_000));

type CustomRecordConfig = z.infer<typeof recordSchema>;
/** `{ "<x>.thisdcos.directory": [{ type: "cname", name: "registry", value: "master.dcos.thisdcos.directory" }] }` */
export type CustomZonesConfig = z.infer<typeof shapeSchema>;

// The first three are dcos-net's list; dcnet also serves thisnode itself, and the router renames
// dclb.thisdcos.directory to l4lb, so a custom zone there could never be reached.
const RESERVED = new Set(["l4lb", "mesos", "dcos", "thisnode", "dclb"]);

/** Why `zone` cannot be a custom zone (dcos_dns_sup.erl validate_zone_name/1), or undefined. */
export function customZoneNameError(zone: string): string | undefined {
  const origin = normalizeName(zone);
  const why = nameProblem(origin);
  if (why !== undefined) return `zone ${JSON.stringify(zone)}: ${why}`;
  const [tld, second, x] = origin.split(".").reverse();
  if (tld !== "directory" || second !== "thisdcos" || x === undefined) {
    return `zone ${JSON.stringify(zone)}: must be <name>.thisdcos.directory`;
  }
  if (RESERVED.has(x)) return `zone ${JSON.stringify(zone)}: ${x}.thisdcos.directory is served by dcnet itself`;
  return undefined;
}

/** Owner and target of one record, or why it is invalid. */
function customRecord(origin: string, rec: CustomRecordConfig): { owner: string; target: string } | { error: string } {
  if (rec.type.toLowerCase() !== "cname") return { error: `type ${JSON.stringify(rec.type)} is not supported (only "cname")` };
  const label = dcosLabel(rec.name);
  if (label === "") return { error: `name ${JSON.stringify(rec.name)} has no letter or digit` };
  const owner = `${label}.${origin}`;
  const target = normalizeName(rec.value);
  const why = nameProblem(owner) ?? nameProblem(target);
  return why === undefined ? { owner, target } : { error: why };
}

function zoneErrors(zone: string, records: readonly CustomRecordConfig[]): string[] {
  const zoneError = customZoneNameError(zone);
  if (zoneError !== undefined) return [zoneError];
  const origin = normalizeName(zone);
  const owners = new Map<string, number>();
  const errors: string[] = [];
  records.forEach((rec, i) => {
    const where = `zone ${JSON.stringify(zone)} record ${i} (${JSON.stringify(rec.name)})`;
    const r = customRecord(origin, rec);
    if ("error" in r) return void errors.push(`${where}: ${r.error}`);
    const first = owners.get(r.owner);
    if (first !== undefined) errors.push(`${where}: ${r.owner} already has a CNAME (record ${first})`);
    else owners.set(r.owner, i);
  });
  return errors;
}

/** Every problem in the section, each naming its zone and record; empty when valid. */
export function validateCustomZones(config: CustomZonesConfig): string[] {
  const seen = new Map<string, string>();
  const errors: string[] = [];
  for (const [zone, records] of Object.entries(config)) {
    const origin = normalizeName(zone);
    const other = seen.get(origin);
    if (other !== undefined) errors.push(`zone ${JSON.stringify(zone)}: same zone as ${JSON.stringify(other)}`);
    seen.set(origin, zone);
    errors.push(...zoneErrors(zone, records));
  }
  return errors;
}

/** The `dns.zones` config section: shape plus every rule of validateCustomZones. */
export const customZonesSchema = shapeSchema.superRefine((config, ctx) => {
  for (const message of validateCustomZones(config)) ctx.addIssue({ code: "custom", message });
});

/** One zone per valid entry (TTL 5, dcos-net SOA/NS); invalid zones and records go to `onProblem`. */
export function customZones(config: CustomZonesConfig, opts: ZoneOptions = {}): Zone[] {
  const zones: Zone[] = [];
  for (const [zone, records] of Object.entries(config)) {
    const zoneError = customZoneNameError(zone);
    if (zoneError !== undefined) {
      opts.onProblem?.({ item: `zone ${zone}`, message: zoneError });
      continue;
    }
    const b = ZoneBuilder.dcos(zone, opts);
    for (const rec of records) {
      const r = customRecord(b.origin, rec);
      if ("error" in r) opts.onProblem?.({ item: `zone ${zone} record ${rec.name}`, message: r.error });
      else b.add(r.owner, { type: "CNAME", data: r.target });
    }
    zones.push(b.build());
  }
  return zones;
}
