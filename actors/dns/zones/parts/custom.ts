// The operator's CNAME zones (`dns.zones`) as one zone part: fixed by config, so it watches nothing.
// Its origins are the configured zones the config validator accepted (an invalid one is skipped by
// customZones too), so a subsystem's part cannot take over an operator's zone unnoticed.
import { customZoneNameError, customZones, type CustomZonesConfig } from "../custom.js";
import { normalizeName } from "../names.js";
import type { ZonePart } from "../part.js";

export function customPart(zones: CustomZonesConfig): ZonePart<undefined> {
  return {
    name: "custom",
    origins: Object.keys(zones).filter((z) => customZoneNameError(z) === undefined).map(normalizeName),
    watch: [],
    init: () => undefined,
    fold: () => false,
    build: (_state, ctx) => customZones(zones, ctx.defaults),
  };
}
