// The node's admin service: a NATS micro service ("dcnet-admin") so standard NATS tooling
// (`nats micro ls/info/stats`) discovers every node, with one endpoint group per node and one
// scatter-gather group that every node answers (each node is its own queue group there).
import { Svcm, type Service, type ServiceMsg } from "@nats-io/services";
import type { Logger } from "pino";
import type { Counter, Registry } from "prom-client";
import { counter } from "../../observability/metrics.js";
import type { Tracer } from "@opentelemetry/api";
import type { Behaviour, Tree } from "../../supervisors/index.js";
import type { Transport, KindDef } from "../../transport/index.js";
import { withServerSpan, decode } from "../../transport/index.js";
import type { Config } from "../../config/index.js";
import type { LogHub } from "../../observability/logger.js";
import { ADMIN_ERRORS, ADMIN_SERVICE_NAME, OP_NAMES, kinds, ops, type OpName } from "./protocol.js";
import { runOp, type OpDeps } from "./ops.js";
import { AdminOpError } from "./errors.js";

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
}

/** Admin requests are small; anything bigger is refused before decoding. */
export const ADMIN_MAX_REQUEST_BYTES = 64 * 1024;

export type AdminMsg = { readonly type: "request"; readonly op: OpName; readonly msg: ServiceMsg };

interface AdminState {
  readonly service: Service;
}

export function adminBehaviour(deps: AdminDeps): Behaviour<AdminState, AdminMsg> {
  const requests = requestCounter(deps.metrics);
  const opDeps: OpDeps = { ...deps };
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
      const mine = service.addGroup(subjects.adminNode(deps.config.id), "");
      // Own queue group per node: every node gets each scatter-gather request exactly once.
      const all = service.addGroup(subjects.adminAll(), deps.config.id);
      for (const op of OP_NAMES) {
        const handler = (err: Error | null, msg: ServiceMsg): void => {
          if (err) ctx.fail(err);
          else ctx.self.tell({ type: "request", op, msg });
        };
        mine.addEndpoint(op, { handler, metadata: { op } });
        all.addEndpoint(op, { handler, metadata: { op, scope: "all" } });
      }
      deps.logger.info({ service: ADMIN_SERVICE_NAME, subject: subjects.adminNode(deps.config.id) }, "admin service up");
      return { service };
    },
    async handle(state, m) {
      const work = () => serve(deps, opDeps, m.op, m.msg, requests);
      if (deps.tracer) await withServerSpan(deps.tracer, `admin ${m.op}`, m.msg.headers, work);
      else await work();
      return state;
    },
    async terminate(state) {
      await state.service.stop().catch(() => undefined);
    },
    messageName: (m) => `admin.${m.op}`,
  };
}

async function serve(deps: AdminDeps, opDeps: OpDeps, op: OpName, msg: ServiceMsg, requests: Counter<"op" | "outcome">): Promise<void> {
  const def = ops[op].request as KindDef<unknown>;
  const decoded = decode(msg.data, [def], { maxBytes: ADMIN_MAX_REQUEST_BYTES });
  if (!decoded.ok) {
    deps.transport.rejects.record({ ...decoded, subject: msg.subject });
    requests.inc({ op, outcome: "rejected" });
    respondError(deps, msg, 400, ADMIN_ERRORS.badRequest, `bad ${op} request: ${decoded.message}`);
    return;
  }
  try {
    const { reply, after } = await runOp(opDeps, op, decoded.env.body);
    msg.respond(deps.transport.encode(ops[op].reply as KindDef<unknown>, reply));
    requests.inc({ op, outcome: "ok" });
    // Side effects that would kill this actor or the node run only after the reply left.
    if (after) setImmediate(after);
  } catch (err) {
    const e = err instanceof AdminOpError ? err : new AdminOpError(ADMIN_ERRORS.internal, (err as Error).message, 500);
    requests.inc({ op, outcome: "error" });
    respondError(deps, msg, e.status, e.code, e.message);
  }
}

function respondError(deps: AdminDeps, msg: ServiceMsg, status: number, code: string, message: string): void {
  if (!msg.reply) return;
  msg.respondError(status, message, deps.transport.encode(kinds.error, { node: deps.config.id, code, message }));
}

function requestCounter(registry: Registry): Counter<"op" | "outcome"> {
  return counter(registry, "dcnet_admin_requests_total", "Admin requests by operation and outcome", ["op", "outcome"] as const);
}
