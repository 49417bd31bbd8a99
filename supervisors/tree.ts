// startTree: builds the node objects for a spec, starts the root, and is the root's parent:
// when the root gives up, the tree reports it once and stops.
import { DEFAULTS } from "./defaults.js";
import { startSystem, stopActor, type NactRef } from "./nact.js";
import type { ChildExit, ChildNode, Parent, Runtime } from "./node.js";
import { validateSpec } from "./spec.js";
import { SupervisorNode } from "./supervisor.js";
import type { ActorRef, ActorStats, ChildSpec, ExitReason, SupervisorSpec, Tree, TreeEvent, TreeOptions } from "./types.js";
import { WorkerNode } from "./worker.js";

type TreeEnd = { readonly reason: "shutdown" | "gave-up"; readonly path?: string };

/**
 * Starts `root` and its children in order. Resolves once the initial start is over: either all
 * children run, or the root already gave up (then `tree.done` is resolved and onGiveUp was called).
 * Throws InvalidSpecError for a malformed spec, before anything starts.
 */
export async function startTree(root: SupervisorSpec, opts: TreeOptions = {}): Promise<Tree> {
  validateSpec(root);
  const tree = new SupervisionTree(root, opts);
  opts.onCreated?.(tree);
  await tree.boot();
  return tree;
}

class SupervisionTree implements Tree, Parent {
  readonly done: Promise<TreeEnd>;
  private resolveDone!: (end: TreeEnd) => void;
  private readonly system: NactRef;
  private readonly root: SupervisorNode;
  private readonly nodes = new Map<string, ChildNode>();
  private readonly refs = new Map<string, ActorRef<unknown>>();
  private readonly workers: WorkerNode<unknown, unknown>[] = [];
  private watchdog: NodeJS.Timeout | undefined;
  private finished = false;
  private stopping: Promise<void> | undefined;

  constructor(
    spec: SupervisorSpec,
    private readonly opts: TreeOptions,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    const rt: Runtime = {
      tracer: opts.tracer,
      defaultDeadlineMs: opts.handlerDeadlineMs ?? DEFAULTS.handlerDeadlineMs,
      emit: guardedEmitter(opts.onEvent),
    };
    // One nact system per tree: two nodes in one test process share nothing.
    this.system = startSystem();
    this.root = this.build(spec, "", this, rt) as SupervisorNode;
  }

  private build(spec: ChildSpec, parentPath: string, parent: Parent, rt: Runtime): ChildNode {
    const path = `${parentPath}/${spec.name}`;
    if (spec.kind === "worker") {
      const node = new WorkerNode<unknown, unknown>(spec, path, parent, rt);
      this.workers.push(node);
      this.refs.set(path, node.ref);
      this.nodes.set(path, node);
      return node;
    }
    const node = new SupervisorNode(spec, path, parent, rt);
    this.nodes.set(path, node);
    for (const child of spec.children) node.children.push(this.build(child, path, node, rt));
    return node;
  }

  async boot(): Promise<void> {
    this.startWatchdog();
    const started = await this.root.start();
    if (!started.ok) this.gaveUp(started.origin, started.originError);
  }

  /** One interval per tree checks every in-flight async handler against its deadline. */
  private startWatchdog(): void {
    const deadlines = this.workers.map((w) => w.deadlineMs).filter((ms) => Number.isFinite(ms));
    if (deadlines.length === 0) return;
    const tickMs = Math.min(1000, Math.max(5, Math.floor(Math.min(...deadlines) / 4)));
    this.watchdog = setInterval(() => {
      const now = Date.now();
      for (const w of this.workers) w.checkDeadline(now);
    }, tickMs);
    this.watchdog.unref();
  }

  // ---- Parent of the root ----

  actorRef(): NactRef {
    return this.system;
  }

  childExited(child: ChildNode, token: number, exit: ChildExit): void {
    if (child === this.root && token === this.root.incarnation) this.gaveUp(exit.origin, exit.originError);
  }

  private gaveUp(origin: string, error: Error): void {
    if (this.finished) return;
    try {
      this.opts.onGiveUp?.({ path: origin, error });
    } catch (err) {
      console.error("dcnet supervisors: onGiveUp threw", err);
    }
    this.finish({ reason: "gave-up", path: origin }, "crash");
  }

  private finish(end: TreeEnd, reason: ExitReason["kind"]): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.watchdog);
    this.root.release(reason);
    stopActor(this.system);
    this.resolveDone(end);
  }

  // ---- Tree ----

  stats(): ActorStats[] {
    const out: ActorStats[] = [];
    this.root.collectStats(Date.now(), out);
    return out;
  }

  lookup<M>(path: string): ActorRef<M> | undefined {
    return this.refs.get(path) as ActorRef<M> | undefined;
  }

  crash(path: string, reason = "crash injected"): boolean {
    return this.nodes.get(path)?.injectCrash(reason) ?? false;
  }

  shutdown(): Promise<void> {
    if (this.finished) return Promise.resolve();
    this.stopping ??= this.root.stop().then(() => this.finish({ reason: "shutdown" }, "shutdown"));
    return this.stopping;
  }
}

function guardedEmitter(onEvent: ((event: TreeEvent) => void) | undefined): (event: TreeEvent) => void {
  if (onEvent === undefined) return () => undefined;
  return (event) => {
    try {
      onEvent(event);
    } catch (err) {
      // A throwing logger must not take the tree down; say so once per event.
      console.error("dcnet supervisors: onEvent threw", err);
    }
  };
}
