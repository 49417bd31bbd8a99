// dcnet's side of bench/l4lb-sync, in process: the real applier actor in a real supervision tree,
// nft run inside a namespace (its commandPrefix), fed by a stand-in for the catalogue's VIP-table
// actor that speaks the same VipsMsg protocol (watch → the table now and after each change). No
// allocator (IP VIPs only) and no membership (no dead nodes): the applier then starts at once.
import { pino } from "pino";
import { Registry } from "prom-client";
import { startTree, supervisor, worker, type ActorRef, type Tree } from "../../supervisors/index.js";
import type { VipsMsg, VipTable } from "../../actors/catalogue/index.js";
import type { Config } from "../../config/index.js";
import { applierBehaviour, NamesBoard, type ApplierMsg, type ApplierStatus } from "../../actors/l4lb/index.js";
import { now } from "./kernel.js";

export interface ApplierRun {
  /** When the stand-in handed the applier its first table (inside the applier's watch). */
  readonly firstDelivery: number;
  /**
   * Hands the applier a new table with the keys that changed, as the catalogue's VIP view does
   * (VipTableBuilder: its own cost is bench/catalogue.ts's); returns when (the subscriber call).
   */
  emit(table: VipTable, changed?: ReadonlySet<string>): number;
  status(timeoutMs?: number): Promise<ApplierStatus>;
  /**
   * Asks for the status until its generation passes `above` (a sync finished). A status ask queues
   * behind a running sync, so the answer comes within a poll gap of the transaction's end.
   */
  waitSynced(above: number, timeoutMs: number): Promise<{ readonly at: number; readonly status: ApplierStatus }>;
  stop(): Promise<void>;
}

const PATH = "/bench/applier";
const POLL_MS = 1;

function fakeVips(initial: VipTable): { ref: ActorRef<VipsMsg>; emit(table: VipTable, changed?: ReadonlySet<string>): number; firstDelivery(): number } {
  let current = initial;
  let subscriber: ((table: VipTable, changed?: ReadonlySet<string>) => void) | undefined;
  let first = Number.NaN;
  const ref: ActorRef<VipsMsg> = {
    path: "/node/catalogue/vips",
    tell: () => undefined,
    ask: async <R>(build: (reply: (r: R) => void) => VipsMsg): Promise<R> => {
      let out: R | undefined;
      const msg = build((r) => (out = r));
      if (msg.type === "watch") {
        subscriber = msg.subscriber;
        msg.reply(1 as R & number);
        // As the real one: the current table right away, inside the watch.
        first = now();
        msg.subscriber(current);
      } else if (msg.type === "table") msg.reply(current as R & VipTable);
      return out as R;
    },
  };
  return {
    ref,
    emit(table, changed) {
      current = table;
      const at = now();
      subscriber?.(table, changed);
      return at;
    },
    firstDelivery: () => first,
  };
}

/** `inside`: this process already runs in `ns` (the applier then uses libnftables in process, as a node does). */
export async function startApplier(opts: { readonly table: VipTable; readonly ns: string; readonly inside?: boolean; readonly config: Config["l4lb"] }): Promise<ApplierRun> {
  const vips = fakeVips(opts.table);
  const behaviour = applierBehaviour({
    config: opts.config,
    logger: pino({ level: "silent" }),
    metrics: new Registry(),
    board: new NamesBoard(),
    vips: () => vips.ref,
    allocator: () => undefined,
    membership: () => undefined,
    ...(opts.inside ? {} : { commandPrefix: ["ip", "netns", "exec", opts.ns] }),
  });
  const tree: Tree = await startTree(supervisor("bench", "one_for_one", [worker("applier", behaviour, { shutdownMs: 10_000 })]), { handlerDeadlineMs: 120_000 });
  const ref = tree.lookup<ApplierMsg>(PATH);
  if (!ref) {
    await tree.shutdown();
    throw new Error(`no actor at ${PATH}`);
  }
  const status = (timeoutMs = 120_000): Promise<ApplierStatus> => ref.ask<ApplierStatus>((reply) => ({ type: "status", reply }), timeoutMs);
  return {
    firstDelivery: vips.firstDelivery(),
    emit: (table, changed) => vips.emit(table, changed),
    status,
    async waitSynced(above, timeoutMs) {
      const until = now() + timeoutMs;
      for (;;) {
        const s = await status(timeoutMs);
        if (s.generation > above) return { at: now(), status: s };
        if (s.lastSync && !s.lastSync.ok) throw new Error(`the applier's sync failed: ${s.lastSync.error ?? "?"}`);
        if (now() > until) throw new Error(`the applier did not finish a sync within ${timeoutMs} ms (generation ${s.generation})`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
    stop: () => tree.shutdown(),
  };
}
