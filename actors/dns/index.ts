// Public door of DNS (README.md): the subtree, the messages other subsystems send to its actors,
// and the zone-part contract with what a contributor needs to build a zone (zones/README.md).
// Nothing else in dns/ may be imported from outside it.
export { dnsTreeSpec, DNS } from "./dns.sup.js";
export type { DnsDeps } from "./dns.sup.js";
export type { ZoneMsg } from "./zone.actor.js";
export type { RecordCursor, RecordsPage, RecordsPageRequest } from "./records-page.js";
export type { UdpMsg } from "./listen/udp.actor.js";
export type { ResolverHostMsg, ResolverHostStatus } from "./host/resolver-host.actor.js";
export { cleanupResolverHost } from "./host/cleanup.js";
export type { ZoneRow, ZonePart, ZoneFeed, ZoneBuildContext, Zone, ZoneDefaults } from "./zones/index.js";
export { ZoneBuilder, headFromDefaults } from "./zones/index.js";
export { DnsError, ZonePartConflictError } from "./errors.js";
