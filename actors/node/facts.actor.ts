// This node's own facts in the replicated store (dcos-net's dcos_net_node did the same for its
// lashup key [dcos_net, nodes]): key `nodes/<id>` with the incarnation, hostname, version, start
// time and addresses. Asserted at start — after a restart that replaces the previous incarnation's
// values instead of adding to them — and again whenever the addresses change.
import { hostname, networkInterfaces } from "node:os";
import type { Logger } from "pino";
import type { Behaviour, ActorRef } from "../../supervisors/index.js";
import type { StoreMsg, UpdateOp } from "../gossip/index.js";
import { StoreUnavailableError } from "../gossip/index.js";

type FactsMsg = { readonly type: "assert" } | { readonly type: "check" };

interface FactsState {
  readonly addresses: readonly string[];
  readonly timer: NodeJS.Timeout;
}

interface FactsDeps {
  readonly nodeId: string;
  readonly incarnation: number;
  readonly version: string;
  readonly logger: Logger;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  /** Roles other subsystems look for, e.g. "master" (runs a Mesos master: DNS master./leader. names). */
  readonly roles?: readonly string[];
  /** The address other nodes and DNS use for this node; default: the first IPv4 of localAddresses(). */
  readonly ip?: string;
  /** How often to look for address changes (ms). */
  readonly checkEveryMs?: number;
}

const nodeKey = (nodeId: string): string => `nodes/${nodeId}`;

/** Addresses other nodes can reach: not loopback, not IPv6 link-local; sorted, so equal sets compare equal. */
export function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal && !(a.family === "IPv6" && /^fe[89ab]/i.test(a.address)))
    .map((a) => a.address)
    .sort();
}

/** The node's own address: configured, else the first IPv4 (then any) address; undefined when none. */
export function primaryIp(addresses: readonly string[], configured?: string): string | undefined {
  return configured ?? addresses.find((a) => !a.includes(":")) ?? addresses[0];
}

function factsOps(deps: FactsDeps, addresses: readonly string[], previous: readonly string[]): UpdateOp[] {
  const ip = primaryIp(addresses, deps.ip);
  return [
    ...(ip ? [{ op: "set", field: "ip", value: ip } as const] : []),
    { op: "set", field: "roles", value: [...(deps.roles ?? [])] },
    { op: "set", field: "incarnation", value: deps.incarnation },
    { op: "set", field: "hostname", value: hostname() },
    { op: "set", field: "version", value: deps.version },
    { op: "set", field: "startedAt", value: deps.incarnation },
    ...previous.filter((a) => !addresses.includes(a)).map((a): UpdateOp => ({ op: "remove", field: "addresses", elem: a })),
    ...addresses.map((a): UpdateOp => ({ op: "add", field: "addresses", elem: a })),
  ];
}

export function factsBehaviour(deps: FactsDeps): Behaviour<FactsState, FactsMsg> {
  return {
    init(ctx) {
      ctx.self.tell({ type: "assert" });
      const timer = setInterval(() => ctx.self.tell({ type: "check" }), deps.checkEveryMs ?? 10_000);
      timer.unref();
      return { addresses: [], timer };
    },
    async handle(state, msg) {
      const addresses = localAddresses();
      if (msg.type === "check" && addresses.join() === state.addresses.join()) return state;
      const store = deps.store();
      if (!store) throw new StoreUnavailableError();
      const r = await store.ask<{ ok: boolean; error?: string }>((reply) => ({ type: "update", key: nodeKey(deps.nodeId), ops: factsOps(deps, addresses, state.addresses), reply }), 15_000);
      if (!r.ok) throw new Error(`asserting node facts failed: ${r.error ?? "unknown"}`);
      deps.logger.info({ key: nodeKey(deps.nodeId), addresses }, "node facts asserted");
      return { ...state, addresses };
    },
    terminate(state) {
      clearInterval(state.timer);
    },
    handlerDeadlineMs: 20_000,
    // Every 10 s; a change of addresses it finds is written, and that write starts its own trace.
    background: (msg) => msg.type === "check",
  };
}
