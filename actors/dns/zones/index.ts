// Public door of the zone builders: pure functions from catalogue facts and Mesos-DNS records to
// the immutable zones of types.ts.
export { ZoneBuilder, headFromDefaults } from "./builder.js";
export type { ZoneDefaults } from "./builder.js";
export { dcosZone } from "./dcos.js";
export { assembleZoneSet, zoneRecords, zoneSize } from "./zoneset.js";
export type { ZoneRow } from "./zoneset.js";
export { runZonePart, watchCover } from "./part.js";
export type { RunningZonePart, ZoneBuildContext, ZoneFeed, ZonePart } from "./part.js";
export type { Zone } from "./types.js";
