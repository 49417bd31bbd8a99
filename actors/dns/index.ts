// Public door of DNS (README.md): the subtree and the messages other subsystems send to its
// actors. Nothing else in dns/ may be imported from outside it.
export { dnsTreeSpec, DNS } from "./dns.sup.js";
export type { DnsDeps } from "./dns.sup.js";
export type { ZoneMsg } from "./zone.actor.js";
export type { UdpMsg } from "./udp.actor.js";
export type { ZoneRow } from "./zones/index.js";
export { customZonesSchema } from "./zones/index.js";
