// Native registrations over NATS (Consul-agent style): a program registers a task with any node;
// the task becomes that node's fact in the replicated store (key tasks/<node>/<id>), so it goes
// away with the node (owner cleanup), and, with a TTL, when its program stops renewing it.
// After a crash this actor rebuilds its table from the store (its own prefix); after a node
// restart the old incarnation's facts are dropped and programs register again, as with Consul.
import type { Logger } from "pino";
import type { ActorRef, Behaviour, ReplyTo } from "../../supervisors/index.js";
import type { StoreMsg, TraceCarrier } from "../gossip/index.js";
import type { Task } from "./model.js";
import { issueText, taskRegistrationSchema } from "./model.js";
import { parseTaskKey, sourcePrefix, taskKey } from "./keys.js";
import { storeWriter, taskUpdateOps } from "./store-writer.js";
import { StoreUnavailableError } from "../gossip/index.js";

export type RegistrationResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * `trace`: the requester's trace context, captured before the ask (admin catalogue-ops): the store
 * write, and through it the zone update on every node, joins the request's trace. Without it the
 * write carries whatever context the handler runs in (the supervisor's turn span when the tree traces).
 */
export type RegistrationMsg =
  | { readonly type: "add"; readonly task: Task; readonly ttlMs?: number; readonly trace?: TraceCarrier; readonly reply: ReplyTo<RegistrationResult> }
  | { readonly type: "remove"; readonly id: string; readonly trace?: TraceCarrier; readonly reply: ReplyTo<RegistrationResult> }
  | { readonly type: "expire" };

interface Entry {
  readonly ttlMs?: number;
  readonly expiresAt?: number;
}

interface RegState {
  readonly entries: Map<string, Entry>;
  readonly timer: NodeJS.Timeout;
}

interface RegistrationDeps {
  readonly nodeId: string;
  readonly logger: Logger;
  readonly store: () => ActorRef<StoreMsg> | undefined;
  /** How often expired registrations are looked for (ms). */
  readonly sweepMs?: number;
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
  return {
    async init(ctx) {
      const entries = new Map<string, Entry>();
      // Rebuild after a crash: what this node registered is in the store under its own prefix.
      const keys = await store().ask<readonly string[]>((reply) => ({ type: "keys", prefix: sourcePrefix(deps.nodeId, "native"), reply }), STORE_TIMEOUT_MS);
      for (const key of keys) {
        const parsed = parseTaskKey(key);
        if (parsed) entries.set(parsed.id, {});
      }
      const timer = setInterval(() => ctx.self.tell({ type: "expire" }), deps.sweepMs ?? 1000);
      timer.unref();
      return { entries, timer };
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
          await write(taskKey(deps.nodeId, msg.task.id), { task: checked.data }, msg.trace);
          const ttl = msg.ttlMs;
          state.entries.set(msg.task.id, ttl ? { ttlMs: ttl, expiresAt: Date.now() + ttl } : {});
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
      }
    },
    terminate(state) {
      clearInterval(state.timer);
    },
    handlerDeadlineMs: 30_000,
  };
}
