// The node's admin service: a NATS micro service ("dcnet-admin") so standard NATS tooling
// (`nats micro ls/info/stats`) discovers every node, with one endpoint group per node and one
// scatter-gather group that every node answers (each node is its own queue group there). It serves
// whatever ops it is given: each subsystem declares its own (actors/<subsystem>/ops.ts). Each op is
// served under every caller role (`admin.*.<node>.<op>`); the role token of the subject a request
// arrived on is the caller's, granted by NATS permissions, and must be at least the op's (roles.ts).
import { Svcm, type Service, type ServiceMsg } from "@nats-io/services";
import { context, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Counter, Registry } from "prom-client";
import { counter } from "../../observability/metrics.js";
import { InvalidSpecError, type ActorRef, type Behaviour, type Tree } from "../../supervisors/index.js";
import type { Transport } from "../../transport/index.js";
import { withServerSpan, decode, extractContext, injectCarrier, ADMIN_ROLES, ANY, isAdminRole } from "../../transport/index.js";
import type { Config } from "../../config/index.js";
import type { LogHub } from "../../observability/logger.js";
import { ADMIN_SERVICE_NAME, ERROR_KIND } from "./protocol.js";
import type { AnyOp, OpContext, OpDef } from "./op.js";
import { ADMIN_ERRORS, AdminOpError } from "./errors.js";
import { allows, deniedMessage } from "./roles.js";
import { ALL_OPS } from "../node/ops.js";

export interface AdminDeps {
  readonly config: Config;
  readonly transport: Transport;
  readonly logs: LogHub;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly tracer?: Tracer;
  readonly version: string;
  readonly startedAt: number;
  /** Late-bound: the tree contains this actor, so it exists only after the actor is specified. */
  readonly tree: () => Tree | undefined;
  readonly shutdown: (reason: string) => void;
  /** The ops this node serves; default the standard list, ALL_OPS of actors/node/ops.ts. */
  readonly ops?: readonly AnyOp[];
}

/** Admin requests are small; anything bigger is refused before decoding. */
const ADMIN_MAX_REQUEST_BYTES = 64 * 1024;

export type AdminMsg = { readonly type: "request"; readonly op: AnyOp; readonly msg: ServiceMsg };

interface AdminState {
  readonly service: Service;
}

export function adminBehaviour(deps: AdminDeps): Behaviour<AdminState, AdminMsg> {
  const ops = checkedOps(deps, deps.ops ?? ALL_OPS);
  const meters: AdminMeters = { requests: requestCounter(deps.metrics), denied: deniedCounter(deps.metrics), lastDenialLog: new Map() };
  return {
    async init(ctx) {
      const subjects = deps.transport.subjects;
      const service = await new Svcm(deps.transport.nc).add({
        name: ADMIN_SERVICE_NAME,
        version: deps.version,
        description: `dcnet node admin (node ${deps.config.id}, cluster ${deps.config.cluster})`,
        metadata: { node: deps.config.id, cluster: deps.config.cluster },
        queue: "",
      });
      // One endpoint per op under every role prefix (a `*` token): the handler reads the role.
      const mine = service.addGroup(subjects.adminNode(ANY, deps.config.id), "");
      // Own queue group per node: every node gets each scatter-gather request exactly once.
      const all = service.addGroup(subjects.adminAll(ANY), deps.config.id);
      for (const op of ops) {
        const handler = (err: Error | null, msg: ServiceMsg): void => {
          if (err) ctx.fail(err);
          // Told inside the caller's context, so this actor's turn joins the request's trace (its SERVER
          // span is the turn's sibling, child of the caller's span) instead of starting one of its own.
          else if (deps.tracer) context.with(extractContext(msg.headers), () => ctx.self.tell({ type: "request", op, msg }));
          else ctx.self.tell({ type: "request", op, msg });
        };
        mine.addEndpoint(op.name, { handler, metadata: { op: op.name } });
        all.addEndpoint(op.name, { handler, metadata: { op: op.name, scope: "all" } });
      }
      deps.logger.info({ service: ADMIN_SERVICE_NAME, subject: subjects.adminNode(ANY, deps.config.id), ops: ops.length }, "admin service up");
      return { service };
    },
    async handle(state, m) {
      const work = () => serve(deps, m.op, m.msg, meters);
      if (deps.tracer) await withServerSpan(deps.tracer, `admin ${m.op.name}`, m.msg.headers, work);
      else await work();
      return state;
    },
    async terminate(state) {
      await state.service.stop().catch(() => undefined);
    },
    messageName: (m) => `admin.${m.op.name}`,
  };
}

/** One endpoint per op: names must be valid subject tokens (transport's OP_PATTERN) and unique, roles known. */
function checkedOps(deps: AdminDeps, ops: readonly AnyOp[]): readonly AnyOp[] {
  const seen = new Set<string>();
  for (const op of ops) {
    deps.transport.subjects.adminAllOp("admin", op.name);
    if (!isAdminRole(op.role)) throw new InvalidSpecError("admin", `admin op "${op.name}" has role ${JSON.stringify(op.role)}, not one of ${ADMIN_ROLES.join(", ")}`);
    if (seen.has(op.name)) throw new InvalidSpecError("admin", `admin op "${op.name}" is declared twice`);
    seen.add(op.name);
  }
  return ops;
}

async function serve<Q, R>(deps: AdminDeps, op: OpDef<string, Q, R>, msg: ServiceMsg, meters: AdminMeters): Promise<void> {
  const { requests } = meters;
  if (!permitted(deps, op, msg, meters)) return;
  const decoded = decode(msg.data, [op.request], { maxBytes: ADMIN_MAX_REQUEST_BYTES });
  if (!decoded.ok) {
    deps.transport.rejects.record({ ...decoded, subject: msg.subject });
    requests.inc({ op: op.name, outcome: "rejected" });
    respondError(deps, msg, 400, ADMIN_ERRORS.badRequest, `bad ${op.name} request: ${decoded.message}`);
    return;
  }
  const after: Array<() => void> = [];
  try {
    const reply = await op.handle(decoded.env.body, opContext(deps, after));
    msg.respond(deps.transport.encode(op.reply, reply));
    requests.inc({ op: op.name, outcome: "ok" });
    // Side effects that would kill this actor or the node run only after the reply left.
    for (const f of after) setImmediate(f);
  } catch (err) {
    const e = err instanceof AdminOpError ? err : new AdminOpError(ADMIN_ERRORS.internal, err instanceof Error ? err.message : String(err), 500);
    requests.inc({ op: op.name, outcome: "error" });
    respondError(deps, msg, e.status, e.code, e.message);
  }
}

/**
 * The role check, before the request is even decoded: a caller below the op's role gets 403 and
 * nothing runs. A role token that is no role (a raw client on `admin.root.…`) is denied the same way.
 */
function permitted(deps: AdminDeps, op: AnyOp, msg: ServiceMsg, meters: AdminMeters): boolean {
  const caller = deps.transport.subjects.adminRoleOf(msg.subject);
  if (caller !== undefined && allows(caller, op.role)) return true;
  const role = caller ?? "unknown";
  meters.denied.inc({ op: op.name, role });
  meters.requests.inc({ op: op.name, outcome: "denied" });
  const message = deniedMessage(op.name, op.role);
  // A denied caller retrying in a loop must not flood the log: one line per (op, role) per interval.
  const key = `${op.name} ${role}`;
  const now = Date.now();
  if (now - (meters.lastDenialLog.get(key) ?? -Infinity) >= DENIAL_LOG_INTERVAL_MS) {
    meters.lastDenialLog.set(key, now);
    deps.logger.warn({ op: op.name, role, needs: op.role }, message);
  }
  respondError(deps, msg, 403, ADMIN_ERRORS.permissionDenied, message);
  return false;
}

/** What a handler sees of the node, for one request. */
function opContext(deps: AdminDeps, after: Array<() => void>): OpContext {
  const tree = deps.tree();
  return {
    config: deps.config,
    version: deps.version,
    startedAt: deps.startedAt,
    logger: deps.logger,
    logs: deps.logs,
    transport: deps.transport,
    tree,
    actor<M>(path: string, hint?: string): ActorRef<M> {
      const ref = tree?.lookup<M>(path);
      const running = tree?.stats().some((s) => s.path === path && s.status !== "stopped") ?? false;
      if (!ref || !running) throw new AdminOpError(ADMIN_ERRORS.unavailable, `${path} is not running on this node${hint ? ` (${hint})` : ""}`, 503);
      return ref;
    },
    // Handlers run inside the request's SERVER span (withServerSpan), so the active context is the request's.
    traceCarrier: () => injectCarrier(context.active()),
    afterReply: (f) => void after.push(f),
    shutdown: deps.shutdown,
  };
}

function respondError(deps: AdminDeps, msg: ServiceMsg, status: number, code: string, message: string): void {
  if (!msg.reply) return;
  msg.respondError(status, message, deps.transport.encode(ERROR_KIND, { node: deps.config.id, code, message }));
}

function requestCounter(registry: Registry): Counter<"op" | "outcome"> {
  return counter(registry, "dcnet_admin_requests_total", "Admin requests by operation and outcome", ["op", "outcome"] as const);
}

function deniedCounter(registry: Registry): Counter<"op" | "role"> {
  return counter(registry, "dcnet_admin_denied_total", "Admin requests denied because the caller's role is below the operation's", ["op", "role"] as const);
}

const DENIAL_LOG_INTERVAL_MS = 10_000;

interface AdminMeters {
  readonly requests: Counter<"op" | "outcome">;
  /** Label `role` is the caller's (viewer, operator) or `unknown`: bounded, never sender text. */
  readonly denied: Counter<"op" | "role">;
  readonly lastDenialLog: Map<string, number>;
}
