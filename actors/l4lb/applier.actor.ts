// The applier: the one writer of this node's L4LB kernel state. Follows the catalogue's VIP table,
// the named-VIP addresses (allocator) and membership (dead nodes), derives the desired state with the
// pure renderer, and programs the difference as ONE `nft -f` transaction per burst of changes. It
// never lists the ruleset to find the difference: it keeps what it applied in memory. Reading the
// kernel back is the reconciler's job, and the adoption's at start.
//
// Start-up adopts what is there: the rules outlive the actor and the node (new connections to VIPs
// keep working through a restart), so the first sync reads the tables back, compares them with the
// desired state and repairs only the difference — nothing is flushed and rebuilt.
import { networkInterfaces } from "node:os";
import { Histogram, type Registry } from "prom-client";
import type { Logger } from "pino";
import type { ActorRef, Behaviour, ReplyTo } from "../../supervisors/index.js";
import type { Config } from "../../config/index.js";
import type { Member, MemberEvent, MembershipMsg } from "../gossip/index.js";
import type { VipsMsg, VipTable } from "../catalogue/index.js";
import { counter, gauge } from "../../observability/metrics.js";
import { EMPTY_DESIRED, kernelVipKey, L4LB_TABLE, type DesiredState, type KernelVip, type SkippedVip } from "./model.js";
import { desiredStateFrom, type DesiredResult, type VipView } from "./render/desired.js";
import { renderCleanup, renderDelta, renderFull } from "./render/nft.js";
import { compareKernel, parseKernel, type ObservedKernel } from "./render/readback.js";
import { conntrackFlushes } from "./render/conntrack-plan.js";
import { nftApply, nftBackendsInUse, nftListTable } from "./kernel/nft.js";
import { PersistentShell } from "../../host/shell.js";
import { conntrackFlush } from "./kernel/conntrack.js";
import { L4lbDependencyError, L4lbError, NftRejectedError } from "./errors.js";
import type { AllocatorMsg, AllocatorView } from "./allocator.actor.js";
import type { NamesBoard, PublishedName } from "./names-board.js";

export interface ApplierStatus {
  readonly paused: boolean;
  readonly generation: number;
  readonly lastSync?: { readonly at: number; readonly ms: number; readonly ok: boolean; readonly error?: string };
  readonly vips: number;
  readonly backends: number;
  readonly unreachableBackends: number;
  readonly elements: number;
  readonly repairs: { readonly adopt: number; readonly drift: number };
  readonly conntrack: { readonly flushed: number; readonly failed: number };
  readonly nftFailures: number;
  readonly skipped: readonly SkippedVip[];
  readonly waiting?: string;
}

export type ApplierMsg =
  /** `changed`: the catalogue keys that differ from the previous table; undefined = any may have. */
  | { readonly type: "table"; readonly table: VipTable; readonly changed?: ReadonlySet<string> | undefined }
  | { readonly type: "addresses"; readonly view: AllocatorView }
  | { readonly type: "members"; readonly members: readonly Member[] }
  | { readonly type: "member"; readonly ev: MemberEvent }
  | { readonly type: "sync" }
  /** The reconciler's read-back found drift against generation `generation`; applied only if nothing changed since. */
  | { readonly type: "repair"; readonly generation: number; readonly text: string; readonly drift: number }
  | { readonly type: "snapshot"; readonly reply: ReplyTo<{ readonly generation: number; readonly applied: DesiredState | undefined }> }
  | { readonly type: "status"; readonly reply: ReplyTo<ApplierStatus> }
  | { readonly type: "views"; readonly reply: ReplyTo<readonly VipView[] | undefined> }
  | { readonly type: "cleanup"; readonly reply: ReplyTo<{ readonly ok: boolean; readonly error?: string }> }
  | { readonly type: "resume" };

export interface ApplierDeps {
  readonly config: Config["l4lb"];
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly board: NamesBoard;
  readonly vips: () => ActorRef<VipsMsg> | undefined;
  readonly allocator: () => ActorRef<AllocatorMsg> | undefined;
  readonly membership: () => ActorRef<MembershipMsg> | undefined;
  /** How long the first sync waits for the allocator's initial read before going on without named VIPs. */
  readonly allocatorWaitMs?: number;
  /** Prefix of every nft / conntrack command (tests run them inside a namespace); default none. */
  readonly commandPrefix?: readonly string[];
}

interface ApplierState {
  table: VipTable | undefined;
  /** Catalogue keys changed since `result` was computed (all of them when `pendingAll`). */
  readonly pending: Set<string>;
  pendingAll: boolean;
  /** Nodes membership reports dead: a new Set only when that changes, so the renderer stays incremental. */
  dead: ReadonlySet<string>;
  addresses: ReadonlyMap<string, string>;
  allocReady: boolean;
  readonly members: Map<string, Member["state"]>;
  scheduled: boolean;
  /** What the kernel holds, as far as this incarnation knows; undefined until adopted. */
  applied: DesiredState | undefined;
  generation: number;
  result: DesiredResult | undefined;
  wanted: readonly string[] | undefined;
  lastSync: ApplierStatus["lastSync"];
  paused: boolean;
  readonly counts: { adopt: number; drift: number; flushed: number; failed: number; nftFailures: number };
  /** VIPs nft refused, with the state refused: skipped until their state changes. */
  readonly refused: Map<string, { readonly sig: string; readonly message: string }>;
  readonly skippedSeen: Set<string>;
  readonly startedAt: number;
  retry: NodeJS.Timeout | undefined;
  readonly unsubscribe: Array<() => void>;
  /** Where conntrack runs: started at init, so no flush forks the node once its heap is large. */
  readonly shells: readonly PersistentShell[];
}

const WATCH_TIMEOUT_MS = 60_000;
const RETRY_MS = 2000;

export function applierBehaviour(deps: ApplierDeps): Behaviour<ApplierState, ApplierMsg> {
  const cfg = deps.config;
  const log = deps.logger;
  const opts = { table: L4LB_TABLE, selection: cfg.selection, maxBackends: cfg.maxBackends, ipv6: cfg.ipv6 };
  const nftOpts = { command: [...(deps.commandPrefix ?? []), cfg.nft], backend: cfg.nftBackend };
  const ctOpts = { command: [...(deps.commandPrefix ?? []), cfg.conntrack] };
  const m = metrics(deps.metrics);
  const allocatorWaitMs = deps.allocatorWaitMs ?? 10_000;

  const schedule = (s: ApplierState, self: { tell(msg: ApplierMsg): void }): void => {
    if (s.scheduled) return;
    s.scheduled = true;
    // One transaction per burst: everything already in the mailbox is folded in before the sync runs.
    setImmediate(() => self.tell({ type: "sync" }));
  };

  const later = (s: ApplierState, self: { tell(msg: ApplierMsg): void }, ms: number): void => {
    if (s.retry) return;
    s.retry = setTimeout(() => {
      s.retry = undefined;
      self.tell({ type: "sync" });
    }, ms);
  };

  const countSkips = (s: ApplierState, skipped: readonly SkippedVip[]): void => {
    const now = new Set<string>();
    for (const k of skipped) {
      const id = `${k.vip}\u0000${k.reason}`;
      now.add(id);
      if (!s.skippedSeen.has(id)) {
        m.skipped.inc({ reason: k.reason });
        log.warn({ vip: k.vip, reason: k.reason }, `VIP skipped: ${k.message}`);
      }
    }
    s.skippedSeen.clear();
    for (const id of now) s.skippedSeen.add(id);
  };

  /** The desired state minus what nft refused (unless it changed since). */
  const withoutRefused = (s: ApplierState, d: DesiredState): DesiredState => {
    if (s.refused.size === 0) return d;
    const vips = new Map(d.vips);
    for (const [key, r] of s.refused) {
      const v = vips.get(key);
      if (v === undefined || signature(v) !== r.sig) s.refused.delete(key);
      else vips.delete(key);
    }
    return { vips, hairpin: d.hairpin };
  };

  const publishNames = (applied: DesiredState, views: readonly VipView[]): void => {
    const names = new Map<string, PublishedName>();
    for (const v of views) {
      if (v.kind !== "named" || v.dnsName === undefined) continue;
      const present = v.addresses.filter((a) => applied.vips.has(kernelVipKey({ family: a.family, addr: a.addr, protocol: v.protocol, port: v.port })));
      if (present.length === 0) continue;
      const prev = names.get(v.dnsName) ?? {};
      const next: { v4?: string; v6?: string } = { ...prev };
      for (const a of present) {
        if (a.family === "ip") next.v4 = a.addr;
        else next.v6 = a.addr;
      }
      names.set(v.dnsName, next);
    }
    deps.board.publish(names);
  };

  const flush = (prev: DesiredState, next: DesiredState, s: ApplierState): void => {
    if (!cfg.conntrackFlush) return;
    const plan = conntrackFlushes(prev, next);
    if (plan.length === 0) return;
    // Off the sync path: the maps already send new connections elsewhere; this only cuts the old ones short.
    conntrackFlush(plan, { ...ctOpts, shells: s.shells }).then(
      (r) => {
        s.counts.flushed += r.deleted;
        s.counts.failed += r.failed;
        m.conntrack.inc({ outcome: "deleted" }, r.deleted);
        if (r.failed > 0) m.conntrack.inc({ outcome: "failed" }, r.failed);
      },
      (err: unknown) => {
        s.counts.failed += plan.length;
        m.conntrack.inc({ outcome: "failed" }, plan.length);
        log.warn({ err: errText(err) }, "conntrack flush failed; clients of removed backends fail over by timeout");
      },
    );
  };

  const readKernel = async (): Promise<{ ip?: ObservedKernel; ip6?: ObservedKernel }> => {
    const out: { ip?: ObservedKernel; ip6?: ObservedKernel } = {};
    for (const family of ["ip", "ip6"] as const) {
      const json = await nftListTable(family, L4LB_TABLE, nftOpts);
      if (json === undefined) continue;
      const parsed = parseKernel(json);
      if ("problem" in parsed) log.warn({ family, problem: parsed.problem }, "L4LB table read back but not understood; it will be replaced");
      else out[family] = parsed;
    }
    return out;
  };

  /** Applies `next` over `prev`; on a refused transaction, VIP by VIP. Returns what the kernel now holds. */
  const applyDelta = async (s: ApplierState, prev: DesiredState, next: DesiredState): Promise<DesiredState> => {
    const delta = renderDelta(prev, next, opts);
    if (delta.ops === 0) return next;
    const t0 = performance.now();
    try {
      await nftApply(delta.text, nftOpts);
      m.apply.observe((performance.now() - t0) / 1000);
      return next;
    } catch (err) {
      if (!(err instanceof NftRejectedError)) throw err;
      s.counts.nftFailures += 1;
      m.nftFailures.inc({ code: err.code });
      log.warn({ err: err.message, parts: delta.parts.length }, "nft refused the transaction; applying VIP by VIP to find the culprit");
    }
    // Isolation: each VIP's ops alone. Those nft refuses keep their previous kernel state.
    const held = new Map(prev.vips);
    for (const part of delta.parts) {
      const want = next.vips.get(part.key);
      try {
        await nftApply(part.text, nftOpts);
        if (want) held.set(part.key, want);
        else held.delete(part.key);
      } catch (err) {
        if (!(err instanceof NftRejectedError)) throw err;
        m.nftFailures.inc({ code: err.code });
        if (want) s.refused.set(part.key, { sig: signature(want), message: err.message });
        log.error({ vip: part.key, err: err.message }, "nft refused this VIP; it keeps its previous kernel state");
      }
    }
    return { vips: held, hairpin: next.hairpin };
  };

  const sync = async (s: ApplierState, self: ActorRef<ApplierMsg>): Promise<void> => {
    s.scheduled = false;
    if (s.paused || s.table === undefined) return;
    if (!s.allocReady && Date.now() - s.startedAt < allocatorWaitMs) {
      // Adopting before the named addresses are known would delete every named VIP from the kernel.
      later(s, self, 250);
      return;
    }
    const began = performance.now();
    // Incremental from the last result: one VIP's change costs O(that VIP), not O(all VIPs).
    const result = desiredStateFrom(
      s.result,
      { table: s.table, addresses: s.addresses, deadNodes: s.dead, localIps: localIps(), forbidden: cfg.forbidden, maxBackends: cfg.maxBackends, ipv6: cfg.ipv6 },
      s.pendingAll ? undefined : s.pending,
    );
    s.result = result;
    // `changed` is relative to the table `result` was computed from, whatever the kernel does next.
    s.pending.clear();
    s.pendingAll = false;
    countSkips(s, [...result.skipped, ...refusedAsSkipped(s)]);
    if (result.wanted !== s.wanted) {
      s.wanted = result.wanted;
      deps.allocator()?.tell({ type: "want", names: result.wanted });
    }
    const desired = withoutRefused(s, result.state);
    try {
      let applied: DesiredState;
      if (s.applied === undefined) {
        const observed = await readKernel();
        if (!observed.ip && !observed.ip6) {
          // Nothing to adopt (first start on this host, or after a cleanup): create, not a repair.
          await nftApply(renderFull(desired, opts), nftOpts);
          log.info({ vips: desired.vips.size }, "L4LB tables created");
        } else {
          const cmp = compareKernel(observed, desired, opts);
          if (cmp.drift > 0 || cmp.full) {
            await nftApply(cmp.repair, nftOpts);
            const n = Math.max(1, cmp.drift);
            s.counts.adopt += n;
            m.repairs.inc({ reason: "adopt" }, n);
            log.info({ drift: cmp.drift, full: cmp.full }, "L4LB tables adopted and repaired");
          } else {
            log.info({ vips: desired.vips.size }, "L4LB tables adopted unchanged");
          }
        }
        applied = desired;
      } else {
        applied = await applyDelta(s, s.applied, desired);
        flush(s.applied, applied, s);
      }
      s.applied = applied;
      s.generation += 1;
      const ms = performance.now() - began;
      s.lastSync = { at: Date.now(), ms, ok: true };
      m.sync.observe(ms / 1000);
      publishNames(applied, result.views);
      setGauges(m, result, applied);
    } catch (err) {
      s.counts.nftFailures += 1;
      m.nftFailures.inc({ code: err instanceof L4lbError ? err.code : "unknown" });
      s.lastSync = { at: Date.now(), ms: performance.now() - began, ok: false, error: errText(err) };
      log.error({ err: errText(err) }, "L4LB sync failed; the kernel keeps its previous state, retrying");
      later(s, self, RETRY_MS);
    }
  };

  return {
    handlerDeadlineMs: 120_000,
    async init(ctx) {
      const s: ApplierState = {
        table: undefined,
        pending: new Set(),
        pendingAll: true,
        dead: new Set(),
        addresses: new Map(),
        allocReady: false,
        members: new Map(),
        scheduled: false,
        applied: undefined,
        generation: 0,
        result: undefined,
        wanted: undefined,
        lastSync: undefined,
        paused: false,
        counts: { adopt: 0, drift: 0, flushed: 0, failed: 0, nftFailures: 0 },
        refused: new Map(),
        skippedSeen: new Set(),
        startedAt: Date.now(),
        retry: undefined,
        unsubscribe: [],
        shells: cfg.conntrackFlush ? [new PersistentShell(), new PersistentShell()] : [],
      };
      for (const sh of s.shells) sh.start();
      log.info({ nft: await nftBackendsInUse(nftOpts) }, "L4LB applier starting");
      const self = ctx.self;
      const membership = deps.membership();
      if (membership) {
        const w = await membership.ask<{ id: number; members: readonly Member[] }>((reply) => ({ type: "watch", subscriber: (ev) => self.tell({ type: "member", ev }), reply }), WATCH_TIMEOUT_MS);
        self.tell({ type: "members", members: w.members });
        s.unsubscribe.push(() => deps.membership()?.tell({ type: "unwatch", id: w.id }));
      }
      const allocator = deps.allocator();
      if (allocator) {
        const id = await allocator.ask<number>((reply) => ({ type: "watch", subscriber: (view) => self.tell({ type: "addresses", view }), reply }), WATCH_TIMEOUT_MS);
        s.unsubscribe.push(() => deps.allocator()?.tell({ type: "unwatch", id }));
      } else {
        s.allocReady = true;
      }
      const vips = deps.vips();
      if (!vips) throw new L4lbDependencyError("the catalogue's VIP table actor is not running");
      const id = await vips.ask<number>((reply) => ({ type: "watch", subscriber: (table, changed) => self.tell({ type: "table", table, changed }), reply }), WATCH_TIMEOUT_MS);
      s.unsubscribe.push(() => deps.vips()?.tell({ type: "unwatch", id }));
      return s;
    },
    async handle(s, msg, ctx) {
      switch (msg.type) {
        case "table":
          s.table = msg.table;
          if (msg.changed === undefined) s.pendingAll = true;
          else for (const k of msg.changed) s.pending.add(k);
          schedule(s, ctx.self);
          return s;
        case "addresses":
          s.addresses = msg.view.addresses;
          s.allocReady = s.allocReady || msg.view.ready;
          schedule(s, ctx.self);
          return s;
        case "members":
          s.members.clear();
          for (const mb of msg.members) if (!mb.self) s.members.set(mb.node, mb.state);
          s.dead = deadOf(s.members);
          schedule(s, ctx.self);
          return s;
        case "member": {
          const before = s.members.get(msg.ev.node);
          const after = msg.ev.type === "join" || msg.ev.type === "rejoin" ? "alive" : msg.ev.type;
          s.members.set(msg.ev.node, after);
          // Only death and return change the backends; a suspicion alone does not.
          if ((before === "dead") !== (after === "dead")) {
            s.dead = deadOf(s.members);
            schedule(s, ctx.self);
          }
          return s;
        }
        case "sync":
          await sync(s, ctx.self);
          return s;
        case "repair": {
          if (s.paused || s.applied === undefined || msg.generation !== s.generation) return s;
          try {
            await nftApply(msg.text, nftOpts);
            s.counts.drift += msg.drift;
            m.repairs.inc({ reason: "drift" }, msg.drift);
            log.warn({ drift: msg.drift }, "L4LB kernel state had drifted from the desired state; repaired");
          } catch (err) {
            m.nftFailures.inc({ code: err instanceof L4lbError ? err.code : "unknown" });
            log.error({ err: errText(err) }, "L4LB drift repair failed; the next reconcile retries");
          }
          return s;
        }
        case "snapshot":
          msg.reply({ generation: s.generation, applied: s.paused ? undefined : s.applied });
          return s;
        case "status":
          msg.reply(statusOf(s));
          return s;
        case "views":
          msg.reply(s.result?.views);
          return s;
        case "cleanup":
          try {
            await nftApply(renderCleanup(opts), nftOpts);
            s.paused = true;
            s.applied = undefined;
            s.generation += 1;
            deps.board.publish(new Map());
            log.warn("L4LB tables removed by admin request; programming paused until `l4lb resume` or a restart");
            msg.reply({ ok: true });
          } catch (err) {
            msg.reply({ ok: false, error: errText(err) });
          }
          return s;
        case "resume":
          if (!s.paused) return s;
          s.paused = false;
          log.info("L4LB programming resumed");
          schedule(s, ctx.self);
          return s;
      }
    },
    terminate(s) {
      if (s.retry) clearTimeout(s.retry);
      for (const off of s.unsubscribe) off();
      for (const sh of s.shells) sh.close();
      // The rules stay in the kernel on purpose: connections keep flowing while the actor or the node
      // restarts, and the next incarnation adopts them. `dcnet node --l4lb-cleanup` removes them.
    },
  };

  function statusOf(s: ApplierState): ApplierStatus {
    const applied = s.applied ?? EMPTY_DESIRED;
    let elements = 0;
    for (const v of applied.vips.values()) elements += 1 + v.backends.length;
    elements += applied.hairpin.ip.size + applied.hairpin.ip6.size;
    return {
      paused: s.paused,
      generation: s.generation,
      ...(s.lastSync ? { lastSync: s.lastSync } : {}),
      vips: applied.vips.size,
      backends: s.result?.counts.backends ?? 0,
      unreachableBackends: s.result?.counts.unreachableBackends ?? 0,
      elements,
      repairs: { adopt: s.counts.adopt, drift: s.counts.drift },
      conntrack: { flushed: s.counts.flushed, failed: s.counts.failed },
      nftFailures: s.counts.nftFailures,
      skipped: [...(s.result?.skipped ?? []), ...refusedAsSkipped(s)],
      ...(s.table === undefined ? { waiting: "the catalogue's VIP table" } : !s.allocReady && s.applied === undefined ? { waiting: "the named-VIP allocator" } : {}),
    };
  }
}

/** The VIPs nft refused, as skipped VIPs (reason "conflict": the kernel would not take them). */
function refusedAsSkipped(s: Pick<ApplierState, "refused">): SkippedVip[] {
  return [...s.refused].map(([vip, r]) => ({ vip, reason: "conflict", message: `refused by nft: ${r.message}` }));
}

function signature(v: KernelVip): string {
  return v.backends.map((b) => `${b.ip}:${b.port}`).join(",");
}

function deadOf(members: ReadonlyMap<string, Member["state"]>): ReadonlySet<string> {
  return new Set([...members].filter(([, st]) => st === "dead").map(([n]) => n));
}

// This node's addresses, read at most once a second: getifaddrs on every sync would cost more than
// the sync, and the renderer stays incremental while the set is the same object.
let ipsCache: { at: number; key: string; ips: ReadonlySet<string> } | undefined;
function localIps(): ReadonlySet<string> {
  const now = Date.now();
  if (ipsCache && now - ipsCache.at < 1000) return ipsCache.ips;
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  const key = [...out].sort().join(",");
  ipsCache = { at: now, key, ips: ipsCache?.key === key ? ipsCache.ips : out };
  return ipsCache.ips;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface ApplierMetrics {
  readonly sync: Histogram;
  readonly apply: Histogram;
  readonly repairs: ReturnType<typeof counter<"reason">>;
  readonly conntrack: ReturnType<typeof counter<"outcome">>;
  readonly nftFailures: ReturnType<typeof counter<"code">>;
  readonly skipped: ReturnType<typeof counter<"reason">>;
  readonly vips: ReturnType<typeof gauge>;
  readonly backends: ReturnType<typeof gauge>;
  readonly unreachableBackends: ReturnType<typeof gauge>;
  readonly unreachableVips: ReturnType<typeof gauge>;
}

const SYNC_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function metrics(registry: Registry): ApplierMetrics {
  const histogram = (name: string, help: string) => (registry.getSingleMetric(name) as Histogram | undefined) ?? new Histogram({ name, help, buckets: SYNC_BUCKETS, registers: [registry] });
  return {
    sync: histogram("dcnet_l4lb_sync_duration_seconds", "One sync: desired state derived from the VIP table, difference programmed (dcos-net vips_duration_seconds)"),
    apply: histogram("dcnet_l4lb_apply_duration_seconds", "One nft transaction of a sync (dcos-net ipvs_duration_seconds)"),
    repairs: counter(registry, "dcnet_l4lb_reconcile_repairs_total", "Kernel elements found wrong and repaired: at start (adopt) or by the periodic read-back (drift)", ["reason"]),
    conntrack: counter(registry, "dcnet_l4lb_conntrack_flushes_total", "Conntrack entries of removed backends deleted (or failed to)", ["outcome"]),
    nftFailures: counter(registry, "dcnet_l4lb_nft_failures_total", "nft runs that failed (missing binary, refused transaction, timeout)", ["code"]),
    skipped: counter(registry, "dcnet_l4lb_vips_skipped_total", "VIPs left out of the kernel, counted when first skipped, by reason", ["reason"]),
    vips: gauge(registry, "dcnet_l4lb_vips", "VIPs in this node's kernel (dcos-net vips)"),
    backends: gauge(registry, "dcnet_l4lb_backends", "Backends of all VIPs (dcos-net backends)"),
    unreachableBackends: gauge(registry, "dcnet_l4lb_unreachable_backends", "Backends on nodes membership reports dead (dcos-net unreachable_backends)"),
    unreachableVips: gauge(registry, "dcnet_l4lb_unreachable_vips", "VIPs all of whose backends are unreachable (kept, as dcos-net does)"),
  };
}

function setGauges(m: ApplierMetrics, r: DesiredResult, applied: DesiredState): void {
  m.vips.set(applied.vips.size);
  m.backends.set(r.counts.backends);
  m.unreachableBackends.set(r.counts.unreachableBackends);
  m.unreachableVips.set(r.counts.unreachableVips);
}
