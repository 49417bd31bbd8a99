// Many membership instances in one process, sharing one nats-server: each its own registry
// (per-instance metrics), actor tree and transport, as on separate nodes. The transport is either the
// instance's own NATS connection (a URL: as a node has) or an identity riding on a host's shared
// connection (a MemberHost: one socket for hundreds of instances, so the process's cost is the
// instances' work and not one write per message per connection; bench/membership at 300 and 1,000).
// Used by bench/membership and integration/membership.test.ts. `cut` is an in-process partition: the instance neither receives
// nor sends membership messages (its process and connection stay up, like a node behind a cut link).
import { Registry } from "prom-client";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { pino } from "pino";
import type { Config } from "../../config/index.js";
import { supervisor, worker, startTree, type ActorRef, type Tree } from "../../supervisors/index.js";
import { Transport, type Handler, type KindDef, type SubscribeOptions, type TransportSubscription } from "../../transport/index.js";
import type { BodyOf } from "../../transport/envelope.js";
import { gossipConfigSection } from "../../actors/gossip/config.js";
import { membershipBehaviour, type MemberEvent, type MembershipMsg } from "../../actors/gossip/membership/index.js";

const FLUSH_MS = 4;
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

/** One NATS connection shared by the instances started on it. */
export interface MemberHost {
  readonly nc: NatsConnection;
  close(): Promise<void>;
}

export async function startMemberHost(url: string, name = "dcnet-members"): Promise<MemberHost> {
  // Instances' subscriptions all live on this connection: no slow-consumer limit on the whole host's inflow.
  const nc = await connect({ servers: [url], name, pingInterval: 5_000, maxPingOut: 3, maxReconnectAttempts: -1 });
  // nats.js writes its buffer to the socket once per microtask checkpoint, and every instance's
  // actor turn is a macrotask of its own: without this, 1,000 instances make one write(2) per
  // message (a third of the host's CPU at 100 instances; still a quarter when flushed every 1 ms on
  // a loaded machine). Publishes made within FLUSH_MS go out together, as the same messages a real
  // node's own connection would send, in one write; 4 ms is far below every SWIM timeout (80 ms).
  const send = nc.publish.bind(nc);
  let batch: Array<Parameters<NatsConnection["publish"]>> = [];
  const flush = (): void => {
    const out = batch;
    batch = [];
    for (const args of out) {
      try {
        send(...args);
      } catch {
        // Closed or draining: the host is shutting down, the instances with it.
        return;
      }
    }
  };
  nc.publish = (...args: Parameters<NatsConnection["publish"]>): void => {
    if (batch.push(args) === 1) setTimeout(flush, FLUSH_MS);
  };
  return { nc, close: () => nc.drain() };
}

/** `onEvent`, when given, sees each event INSTEAD of `events` keeping it: a bench of 1,000 instances
 * keeps what it needs, not every join of every instance (millions of objects for the GC to walk). */
export async function startMember(on: string | MemberHost, cluster: string, id: string, gossip: Partial<Config["gossip"]>, incarnation = Date.now(), onEvent?: (e: MemberInstance["events"][number]) => void): Promise<MemberInstance> {
  const registry = new Registry();
  const topts = { cluster, nodeId: id, logger: silent, metrics: registry };
  const transport = typeof on === "string" ? await Transport.connect({ ...topts, servers: [on] }) : await Transport.over(on.nc, topts);
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
  await ref.ask((reply) => ({ type: "watch", subscriber: (ev: MemberEvent) => {
        const e = { at: performance.now(), ev };
        if (onEvent === undefined) events.push(e);
        else onEvent(e);
      },
      reply,
     }), 20_000);
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

/** SWIM messages this instance sent and received (its own counter, whatever connection it rides on). */
export async function swimMessages(m: MemberInstance): Promise<number> {
  const metric = await m.registry.getSingleMetric("dcnet_gossip_swim_messages_total")?.get();
  return (metric?.values ?? []).reduce((a, v) => a + v.value, 0);
}

/** How many alive peers an instance sees (itself not counted). */
export function aliveSeen(m: MemberInstance): Promise<number> {
  return m.ref.ask<readonly { state: string; self: boolean }[]>((reply) => ({ type: "members", reply }), 20_000).then((ms) => ms.filter((x) => !x.self && x.state === "alive").length);
}
