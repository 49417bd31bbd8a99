// The zone parts DNS registers itself, in one explicit list; other subsystems' parts arrive through
// dnsTreeSpec's `zoneParts` (from the node root) and are appended after these.
import type { Config } from "../../../../config/index.js";
import { checkZoneParts, type ZonePart } from "../part.js";
import { customPart } from "./custom.js";
import { dcosPart } from "./dcos.js";
import { mesosPart } from "./mesos.js";
import { thisnodePart } from "./thisnode.js";

export function builtinZoneParts(dns: Config["dns"]): ZonePart[] {
  return [
    dcosPart(),
    ...(dns.mesos.mode === "native" ? [mesosPart(dns.mesos)] : []),
    thisnodePart(dns.thisnode),
    customPart(dns.zones),
  ];
}

/** The built-in parts, then `extra`; throws ZonePartConflictError when two claim one origin or name. */
export function zonePartsFor(dns: Config["dns"], extra: readonly ZonePart[] = []): ZonePart[] {
  const parts = [...builtinZoneParts(dns), ...extra];
  checkZoneParts(parts);
  return parts;
}
