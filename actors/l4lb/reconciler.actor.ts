// The reconciler: every `l4lb.reconcileMs` it reads this node's L4LB tables back from the kernel,
// compares them with what the applier last applied, and hands the applier the repair. dcos-net
// read routes and ipsets back but diffed IPVS only against its own memory, so a service someone
// deleted by hand (or a crash half-way) stayed wrong; here every element is checked, and each
// repaired one is counted (dcnet_l4lb_reconcile_repairs_total{reason="drift"}).
//
// It only reads: the applier stays the one writer, and ignores a repair computed against a
// generation it has since replaced (a change landed while the kernel was being read).
import type { Logger } from "pino";
import type { Histogram, Registry } from "prom-client";
import { Histogram as PromHistogram } from "prom-client";
import type { ActorRef, Behaviour } from "../../supervisors/index.js";
import type { Config } from "../../config/index.js";
import { counter } from "../../observability/metrics.js";
import { L4LB_TABLE, type DesiredState } from "./model.js";
import { compareKernel, parseKernel, type ObservedKernel } from "./render/readback.js";
import { nftListTable } from "./kernel/nft.js";
import type { ApplierMsg } from "./applier.actor.js";

export type ReconcilerMsg = { readonly type: "tick" } | { readonly type: "now"; readonly reply: (r: ReconcileResult) => void };

export interface ReconcileResult {
  readonly checked: boolean;
  readonly drift: number;
  readonly full: boolean;
}

export interface ReconcilerDeps {
  readonly config: Config["l4lb"];
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly applier: () => ActorRef<ApplierMsg> | undefined;
  readonly commandPrefix?: readonly string[];
}

interface ReconcilerState {
  readonly timer: NodeJS.Timeout;
}

export function reconcilerBehaviour(deps: ReconcilerDeps): Behaviour<ReconcilerState, ReconcilerMsg> {
  const cfg = deps.config;
  const opts = { table: L4LB_TABLE, selection: cfg.selection, maxBackends: cfg.maxBackends, ipv6: cfg.ipv6 };
  const nftOpts = { command: [...(deps.commandPrefix ?? []), cfg.nft], backend: cfg.nftBackend };
  const readback = (deps.metrics.getSingleMetric("dcnet_l4lb_readback_duration_seconds") as Histogram | undefined) ?? new PromHistogram({ name: "dcnet_l4lb_readback_duration_seconds", help: "Reading the L4LB tables back from the kernel and comparing them with the applied state", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [deps.metrics] });
  const runs = counter(deps.metrics, "dcnet_l4lb_reconciles_total", "Kernel read-backs, by outcome (clean, drift, skipped: nothing applied yet, error)", ["outcome"]);

  const reconcile = async (): Promise<ReconcileResult> => {
    const applier = deps.applier();
    if (!applier) return { checked: false, drift: 0, full: false };
    const snap = await applier.ask<{ generation: number; applied: DesiredState | undefined }>((reply) => ({ type: "snapshot", reply }), 30_000);
    if (snap.applied === undefined) {
      runs.inc({ outcome: "skipped" });
      return { checked: false, drift: 0, full: false };
    }
    const t0 = performance.now();
    const observed: { ip?: ObservedKernel; ip6?: ObservedKernel } = {};
    for (const family of ["ip", "ip6"] as const) {
      const json = await nftListTable(family, L4LB_TABLE, nftOpts);
      if (json === undefined) continue;
      const parsed = parseKernel(json);
      if (!("problem" in parsed)) observed[family] = parsed;
    }
    const cmp = compareKernel(observed, snap.applied, opts);
    readback.observe((performance.now() - t0) / 1000);
    if (cmp.drift === 0 && !cmp.full) {
      runs.inc({ outcome: "clean" });
      return { checked: true, drift: 0, full: false };
    }
    runs.inc({ outcome: "drift" });
    const drift = Math.max(1, cmp.drift);
    deps.logger.warn({ drift, full: cmp.full, generation: snap.generation }, "L4LB kernel state differs from the applied state");
    applier.tell({ type: "repair", generation: snap.generation, text: cmp.repair, drift });
    return { checked: true, drift, full: cmp.full };
  };

  return {
    handlerDeadlineMs: 120_000,
    init(ctx) {
      const timer = setInterval(() => ctx.self.tell({ type: "tick" }), cfg.reconcileMs);
      timer.unref();
      return { timer };
    },
    async handle(s, msg) {
      try {
        const r = await reconcile();
        if (msg.type === "now") msg.reply(r);
      } catch (err) {
        runs.inc({ outcome: "error" });
        deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "L4LB read-back failed; retrying next period");
        if (msg.type === "now") msg.reply({ checked: false, drift: 0, full: false });
      }
      return s;
    },
    terminate(s) {
      clearInterval(s.timer);
    },
    // The periodic read-back; a repair it finds goes to the applier, whose turn starts its own trace.
    background: (msg) => msg.type === "tick",
  };
}
