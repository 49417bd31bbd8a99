// Many membership instances in one process, sharing one nats-server: each its own NATS connection,
// registry (per-instance metrics) and actor tree, as on separate nodes. Used by bench/membership and
// integration/membership.test.ts. `cut` is an in-process partition: the instance neither receives
// nor sends membership messages (its process and connection stay up, like a node behind a cut link).
import { Registry } from "prom-client";
import { pino } from "pino";
import type { Config } from "../../config/index.js";
import { supervisor, worker, startTree, type ActorRef, type Tree } from "../../supervisors/index.js";
import { Transport, type Handler, type KindDef, type SubscribeOptions, type TransportSubscription } from "../../transport/index.js";
import type { BodyOf } from "../../transport/envelope.js";
import { gossipConfigSection } from "../../actors/gossip/config.js";
import { membershipBehaviour, type MemberEvent, type MembershipMsg } from "../../actors/gossip/membership/index.js";

const silent = pino({ level: process.env.DCNET_TEST_LOG ?? "silent" });

export interface MemberInstance {
  readonly id: string;
  readonly incarnation: number;
  readonly transport: Transport;
  readonly registry: Registry;
  readonly ref: ActorRef<MembershipMsg>;
  readonly events: Array<{ readonly at: number; readonly ev: MemberEvent }>;
  cut: boolean;
  stop(): Promise<void>;
}

export async function startMember(url: string, cluster: string, id: string, gossip: Partial<Config["gossip"]>, incarnation = Date.now()): Promise<MemberInstance> {
  const registry = new Registry();
  const transport = await Transport.connect({ servers: [url], cluster, nodeId: id, logger: silent, metrics: registry });
  const sw = { cut: false };
  const subscribe = transport.subscribe.bind(transport);
  transport.subscribe = <D extends KindDef<unknown>>(subject: string, defs: readonly D[], handler: Handler<BodyOf<D>>, opts?: SubscribeOptions): TransportSubscription =>
    subscribe(subject, defs, (env, msg) => (sw.cut ? undefined : handler(env, msg)), opts);
  const publish = transport.publish.bind(transport);
  transport.publish = ((subject: string, def: KindDef<unknown>, body: unknown) => (sw.cut ? undefined : publish(subject, def, body))) as Transport["publish"];
  const config = gossipConfigSection.parse(gossip);
  const behaviour = membershipBehaviour({ transport, logger: silent.child({ node: id }), metrics: registry, config, nodeId: id, incarnation });
  const tree: Tree = await startTree(supervisor("node", "one_for_one", [worker("membership", behaviour)]), { handlerDeadlineMs: 20_000 });
  const ref = tree.lookup<MembershipMsg>("/node/membership");
  if (ref === undefined) throw new Error("no membership actor");
  const events: MemberInstance["events"] = [];
  await ref.ask((reply) => ({ type: "watch", subscriber: (ev: MemberEvent) => events.push({ at: performance.now(), ev }), reply }), 20_000);
  let stopped = false;
  return {
    id,
    incarnation,
    transport,
    registry,
    ref,
    events,
    get cut() {
      return sw.cut;
    },
    set cut(v: boolean) {
      sw.cut = v;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await tree.shutdown();
      await transport.close();
    },
  };
}

/** How many alive peers an instance sees (itself not counted). */
export function aliveSeen(m: MemberInstance): Promise<number> {
  return m.ref.ask<readonly { state: string; self: boolean }[]>((reply) => ({ type: "members", reply }), 20_000).then((ms) => ms.filter((x) => !x.self && x.state === "alive").length);
}
