// The L4LB's DNS zone, `l4lb.thisdcos.directory`, contributed to DNS through the zone-part
// registration (actors/dns/zones/README.md): `<name>.<framework>.l4lb.thisdcos.directory` A/AAAA for
// every named VIP this node's kernel routes. Fed by the names board, not the store (names-board.ts
// says why). The `dclb.thisdcos.*` names are DNS's query rename to this zone (dns/wire/rename.ts).
import { ZoneBuilder, type ZonePart } from "../dns/index.js";
import { L4LB_ZONE } from "./model.js";
import type { NamesBoard, PublishedNames } from "./names-board.js";

interface L4lbZoneState {
  names: PublishedNames;
}

export function l4lbZonePart(board: NamesBoard): ZonePart<L4lbZoneState, PublishedNames> {
  return {
    name: "l4lb",
    origins: [L4LB_ZONE],
    watch: [],
    init: () => ({ names: new Map() }),
    fold: () => false,
    feed: {
      subscribe: (push) => board.subscribe(push),
      fold(state, names) {
        if (state.names === names) return false;
        state.names = names;
        return true;
      },
    },
    build(state, ctx) {
      const zone = ZoneBuilder.dcos(L4LB_ZONE, ctx.defaults);
      for (const [name, addrs] of state.names) {
        const fqdn = `${name}.${L4LB_ZONE}`;
        if (addrs.v4) zone.addAddress(fqdn, addrs.v4);
        if (addrs.v6) zone.addAddress(fqdn, addrs.v6);
      }
      return [zone.build()];
    },
  };
}
