// Native registrations over NATS (Consul-agent style): a program registers a task with any node;
// the task becomes that node's fact in the replicated store (key tasks/<node>/<id>), so it goes
// away with the node (owner cleanup), and, with a TTL, when its program stops renewing it.
// After a crash this actor rebuilds its table from the store (its own prefix); after a node
// restart the old incarnation's facts are dropped and programs register again, as with Consul.
// A task naming its container (`containerId`) gets its addresses from dcnet-cni's attachment of that
// container on this node (convert/attachments.ts): the lease folder is re-read when it changes (and
// every `scanMs` in case a change notice was missed), and a task whose addresses changed is re-written.
import { watch, type FSWatcher } from "node:fs";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ActorRef, Behaviour, ReplyTo } from "../../supervisors/index.js";
import type { KeyView, StoreMsg, TraceCarrier } from "../gossip/index.js";
import type { Task } from "./model.js";
import { issueText, taskRegistrationSchema } from "./model.js";
import { parseTaskKey, sourcePrefix, taskKey } from "./keys.js";
import { storeWriter, taskUpdateOps } from "./store-writer.js";
import { StoreUnavailableError } from "../gossip/index.js";
import { counter, gauge } from "../../observability/metrics.js";
import { readAttachments, type Attachments } from "./attachments.js";
import { containerRegistrationProblem, withAttachment } from "./convert/attachments.js";
import { readTask } from "./model.js";

export type RegistrationResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * `trace`: the requester's trace context, captured before the ask (admin catalogue-ops): the store
 * write, and through it the zone update on every node, joins the request's trace. Without it the
 * write carries whatever context the handler runs in (the supervisor's turn span when the tree traces).
 */
export type RegistrationMsg =
  | { readonly type: "add"; readonly task: Task; readonly ttlMs?: number; readonly trace?: TraceCarrier; readonly reply: ReplyTo<RegistrationResult> }
  | { readonly type: "remove"; readonly id: string; readonly trace?: TraceCarrier; readonly reply: ReplyTo<RegistrationResult> }
  | { readonly type: "expire" }
  | { readonly type: "attachments" };

interface Entry {
  readonly ttlMs?: number;
  readonly expiresAt?: number;
  /** Only for a task naming its container: the task as registered, and the addresses last written. */
  readonly container?: { readonly task: Task; readonly written: string };
}

interface RegState {
  readonly entries: Map<string, Entry>;
  readonly timer: NodeJS.Timeout;
  attachments: Attachments;
  readonly watcher?: FSWatcher;
  readonly scanTimer?: NodeJS.Timeout;
}

interface RegistrationDeps {
  readonly nodeId: string;
  readonly logger: Logger;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  /** How often expired registrations are looked for (ms). */
  readonly sweepMs?: number;
  /** dcnet-cni's lease folder for the overlay network, when the overlay runs here (attachments.ts). */
  readonly attachmentsDir?: string;
  readonly metrics?: Registry;
  /** How often the lease folder is re-read besides its change notices (ms). */
  readonly scanMs?: number;
}

const STORE_TIMEOUT_MS = 15_000;

export function registrationsBehaviour(deps: RegistrationDeps): Behaviour<RegState, RegistrationMsg> {
  const store = (): ActorRef<StoreMsg> => {
    const ref = deps.store();
    if (!ref) throw new StoreUnavailableError();
    return ref;
  };
  const writer = storeWriter(deps.store);
  // An undefined trace lets the writer capture the handler's own context (expiry has no requester).
  const write = (key: string, change: Parameters<typeof taskUpdateOps>[0], trace?: TraceCarrier): Promise<void> => writer(key, taskUpdateOps(change), trace);
  const dir = deps.attachmentsDir;
  const m = deps.metrics
    ? {
        attached: gauge(deps.metrics, "dcnet_catalogue_cni_attachments", "Containers dcnet-cni has attached on this node (its lease folder)"),
        unreadable: gauge(deps.metrics, "dcnet_catalogue_cni_leases_unreadable", "Files in dcnet-cni's lease folder that are not a lease, skipped"),
        filled: counter(deps.metrics, "dcnet_catalogue_container_address_updates_total", "Registered tasks re-written because their container's dcnet-cni addresses changed"),
      }
    : undefined;
  const scan = async (): Promise<Attachments> => {
    if (dir === undefined) return new Map();
    const r = await readAttachments(dir);
    m?.attached.set(r.attachments.size);
    m?.unreadable.set(r.unreadable);
    return r.attachments;
  };
  const ipsKey = (t: Task): string => t.taskIps.join(",");
  return {
    async init(ctx) {
      const entries = new Map<string, Entry>();
      const attachments = await scan();
      // Rebuild after a crash: what this node registered is in the store under its own prefix.
      const keys = await store().ask<readonly string[]>((reply) => ({ type: "keys", prefix: sourcePrefix(deps.nodeId, "native"), reply }), STORE_TIMEOUT_MS);
      for (const key of keys) {
        const parsed = parseTaskKey(key);
        if (!parsed) continue;
        if (dir === undefined) {
          entries.set(parsed.id, {});
          continue;
        }
        // A task naming its container is re-joined with the leases as they are now (a container may
        // have come or gone while this actor was down): its stored addresses were the node's, not the client's.
        const view = await store().ask<KeyView | undefined>((reply) => ({ type: "get", key, reply }), STORE_TIMEOUT_MS);
        const read = readStored(view);
        entries.set(parsed.id, read?.containerId !== undefined ? { container: { task: { ...read, taskIps: [] }, written: ipsKey(read) } } : {});
      }
      const timer = setInterval(() => ctx.self.tell({ type: "expire" }), deps.sweepMs ?? 1000);
      timer.unref();
      let watcher: FSWatcher | undefined;
      let scanTimer: NodeJS.Timeout | undefined;
      if (dir !== undefined) {
        // Change notices for a quick answer; the timer for a folder created after start, or a missed notice.
        const poke = (): void => ctx.self.tell({ type: "attachments" });
        try {
          watcher = watch(dir, poke);
          watcher.on("error", () => undefined);
        } catch {
          watcher = undefined;
        }
        scanTimer = setInterval(poke, deps.scanMs ?? 1000);
        scanTimer.unref();
        poke();
      }
      return { entries, timer, attachments, ...(watcher ? { watcher } : {}), ...(scanTimer ? { scanTimer } : {}) };
    },
    async handle(state, msg) {
      switch (msg.type) {
        case "add": {
          // Strict: a field this node does not know is, from a client, a typo worth naming (model.ts).
          const checked = taskRegistrationSchema.safeParse(msg.task);
          if (!checked.success) {
            msg.reply({ ok: false, error: `invalid task: ${issueText(checked.error.issues)}` });
            return state;
          }
          const problem = containerRegistrationProblem(checked.data, dir !== undefined);
          if (problem !== undefined) {
            msg.reply({ ok: false, error: `invalid task: ${problem}` });
            return state;
          }
          const stored = withAttachment(checked.data, state.attachments);
          await write(taskKey(deps.nodeId, msg.task.id), { task: stored }, msg.trace);
          const ttl = msg.ttlMs;
          const container = checked.data.containerId !== undefined ? { container: { task: checked.data, written: ipsKey(stored) } } : {};
          state.entries.set(msg.task.id, { ...(ttl ? { ttlMs: ttl, expiresAt: Date.now() + ttl } : {}), ...container });
          msg.reply({ ok: true });
          return state;
        }
        case "remove": {
          if (!state.entries.has(msg.id)) {
            msg.reply({ ok: false, error: `no registration "${msg.id}" on node ${deps.nodeId}` });
            return state;
          }
          await write(taskKey(deps.nodeId, msg.id), "delete", msg.trace);
          state.entries.delete(msg.id);
          msg.reply({ ok: true });
          return state;
        }
        case "expire": {
          const now = Date.now();
          for (const [id, e] of state.entries) {
            if (e.expiresAt === undefined || e.expiresAt > now) continue;
            await write(taskKey(deps.nodeId, id), "delete");
            state.entries.delete(id);
            deps.logger.warn({ id, ttlMs: e.ttlMs }, "registration expired: not renewed within its TTL");
          }
          return state;
        }
        case "attachments": {
          state.attachments = await scan();
          for (const [id, e] of state.entries) {
            if (e.container === undefined) continue;
            const stored = withAttachment(e.container.task, state.attachments);
            const written = ipsKey(stored);
            if (written === e.container.written) continue;
            await write(taskKey(deps.nodeId, id), { task: stored });
            state.entries.set(id, { ...e, container: { task: e.container.task, written } });
            m?.filled.inc();
            deps.logger.info({ id, containerId: e.container.task.containerId, taskIps: stored.taskIps }, "registered task's container addresses changed");
          }
          return state;
        }
      }
    },
    terminate(state) {
      clearInterval(state.timer);
      if (state.scanTimer) clearInterval(state.scanTimer);
      state.watcher?.close();
    },
    handlerDeadlineMs: 30_000,
    // The TTL sweep and the folder scan run every second; a write they make starts its own trace.
    background: (msg) => msg.type === "expire" || msg.type === "attachments",
  };
}

/** The task in a stored key view, or undefined when it is not one (readTask's reasons are the VIP view's to count). */
function readStored(view: KeyView | undefined): Task | undefined {
  const field = view?.task;
  if (field?.type !== "lww") return undefined;
  const read = readTask(field.value);
  return read.ok ? read.task : undefined;
}
