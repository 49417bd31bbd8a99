// The API's data, asked of the actors that own it through their doors' messages: the catalogue's
// VIP table, the store's node facts, the DNS zone view and the node's own DNS listener. Nothing is
// cached here: each request sees what those actors hold at that moment.
import type { Registry } from "prom-client";
import type { ActorRef } from "../../supervisors/index.js";
import { splitListen } from "../../config/index.js";
import type { VipsMsg, VipTable } from "../catalogue/index.js";
import { DNS, type RecordsPage, type UdpMsg, type ZoneMsg } from "../dns/index.js";
import { STORE_PATH, type KeyView, type StoreMsg } from "../gossip/index.js";
import { ListenerResolver, reachable } from "./resolver.js";
import type { ApiSources } from "./routes.js";
import type { FieldView } from "./shapes.js";

const ASK_MS = 5000;
/** Where the node tree mounts the actors asked (actors/node/node.sup.ts, catalogue.sup.ts, dns.sup.ts). */
const VIPS_PATH = "/node/catalogue/vips";
const ZONE_PATH = `/node/${DNS}/zone`;
const UDP0_PATH = `/node/${DNS}/udp-0`;
const NODES_PREFIX = "nodes/";
const LISTENER_TTL_MS = 5000;

export class ServiceUnavailable extends Error {
  readonly statusCode = 503;
}

export interface ActorSourcesDeps {
  readonly lookup: <M>(path: string) => ActorRef<M> | undefined;
  readonly registry: Registry;
}

export function actorSources(deps: ActorSourcesDeps): ApiSources & { close(): void } {
  const actor = <M>(path: string, why: string): ActorRef<M> => {
    const ref = deps.lookup<M>(path);
    if (!ref) throw new ServiceUnavailable(`${path} is not running (${why})`);
    return ref;
  };
  const zone = () => actor<ZoneMsg>(ZONE_PATH, "dns.enabled false, or restarting");
  // The listener's address is asked once and kept for a few seconds: an ask per lookup would put a
  // mailbox hop in front of every request (the listener keeps its address across restarts anyway).
  let listener: { at: number; addr: Promise<{ host: string; port: number }> } | undefined;
  const resolver = new ListenerResolver(() => {
    if (listener && Date.now() - listener.at < LISTENER_TTL_MS) return listener.addr;
    const addr = (async () => {
      const a = await actor<UdpMsg>(UDP0_PATH, "dns.enabled false, or restarting").ask<string>((reply) => ({ type: "address", reply }), ASK_MS);
      if (!a) throw new ServiceUnavailable("the DNS listener is not bound yet");
      const { host, port } = splitListen(a);
      return { host: reachable(host), port };
    })();
    listener = { at: Date.now(), addr };
    addr.catch(() => (listener = undefined));
    return addr;
  });
  return {
    vips: () => actor<VipsMsg>(VIPS_PATH, "restarting").ask<VipTable>((reply) => ({ type: "table", reply }), ASK_MS),
    async nodes() {
      const store = actor<StoreMsg>(STORE_PATH, "restarting");
      const keys = await store.ask<readonly string[]>((reply) => ({ type: "keys", prefix: NODES_PREFIX, reply }), ASK_MS);
      const views = await Promise.all(keys.map(async (key) => [key, await store.ask<KeyView | undefined>((reply) => ({ type: "get", key, reply }), ASK_MS)] as const));
      return new Map(views.filter((e): e is readonly [string, KeyView] => e[1] !== undefined).map(([k, v]) => [k, v as Readonly<Record<string, FieldView>>]));
    },
    query: (name, type) => resolver.query(name, type),
    recordsPage: (req) => zone().ask<RecordsPage>((reply) => ({ type: "records-page", ...req, reply }), ASK_MS),
    metrics: async () => ({ contentType: deps.registry.contentType, text: await deps.registry.metrics() }),
    close: () => resolver.close(),
  };
}
