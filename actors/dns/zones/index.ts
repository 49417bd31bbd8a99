// Public door of the zone builders: pure functions from catalogue facts and Mesos-DNS records to
// the immutable zones of types.ts.
export { DCOS_ZONE_DEFAULTS, ZoneBuilder, headFromDefaults } from "./builder.js";
export type { RecordInput, ZoneDefaults, ZoneHead, ZoneOptions, ZoneProblem } from "./builder.js";
export { DCOS_ORIGIN, autoIps, dcosTaskPrefix, dcosZone } from "./dcos.js";
export type { DcosZoneInput } from "./dcos.js";
export { THISNODE_ORIGIN, thisnodeZone } from "./thisnode.js";
export type { ThisnodeInput } from "./thisnode.js";
export { customZoneNameError, customZones, customZonesSchema, validateCustomZones } from "./custom.js";
export type { CustomRecordConfig, CustomZonesConfig } from "./custom.js";
export { MESOS_MIRROR_ORIGIN, mesosZones, mirrorName, parseSrvValue, recordsFromAxfr } from "./mesos.js";
export type { MesosZoneOptions } from "./mesos.js";
export { assembleZoneSet, recordData, zoneRecords, zoneSize } from "./zoneset.js";
export type { ZoneRow } from "./zoneset.js";
export { checkZoneParts, runZonePart, watchCover } from "./part.js";
export type { RunningZonePart, ZoneBuildContext, ZonePart } from "./part.js";
export type { NameRecords, Zone, ZoneRecord, ZoneRecordType, ZoneSet } from "./types.js";
