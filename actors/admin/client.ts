// Client side of the admin protocol, for the CLI, benchmarks, tests and other programs. It speaks any
// list of op declarations: the node's standard list by default, or the one a program passes (a
// node started with extra ops, a test fixture).
import type { AdminRole, Transport, Envelope, TimeoutError, NoRespondersError, ServiceError, TransportErrorCode } from "../../transport/index.js";
import type { AnyOp, OpDef, OpName, ReplyOf, RequestOf } from "./op.js";
import { ERROR_KIND, type ErrorBody } from "./protocol.js";
import { ADMIN_ERRORS, AdminRequestError } from "./errors.js";
import type { StandardOp } from "../node/ops.js";

export interface NodeReply<R> {
  readonly node: string;
  readonly ok: boolean;
  readonly body?: R;
  readonly error?: string;
}

export interface CallOptions {
  /** The node to ask; without it, the first node to answer on the scatter-gather subject. */
  readonly node?: string;
  readonly timeoutMs?: number;
}

export interface AdminClientOptions {
  /**
   * The role this client's requests are sent under (the role token of their subjects). It must be
   * one the client's NATS credential may publish under — the server refuses the others — so a
   * program takes it from its credential. Default `admin`: no credential (a dev setup, `--insecure`).
   */
  readonly role?: AdminRole;
}

export class AdminClient<Op extends AnyOp = StandardOp> {
  #byName: Promise<ReadonlyMap<string, AnyOp>> | undefined;
  /** The role this client's requests are sent under. */
  readonly role: AdminRole;

  constructor(
    private readonly transport: Transport,
    private readonly timeoutMs = 2000,
    /** The ops this client may name; default: the node's standard list (actors/node/ops.ts). */
    private readonly ops?: readonly Op[],
    options: AdminClientOptions = {},
  ) {
    this.role = options.role ?? "admin";
  }

  /** One node's reply; throws AdminRequestError naming the node, the problem and the subject. */
  async request<N extends OpName<Op>>(node: string, op: N, body: RequestOf<Op, N>, timeoutMs = this.timeoutMs): Promise<ReplyOf<Op, N>> {
    return this.call(await this.op(op), body, { node, timeoutMs });
  }

  /** The first node to answer on the scatter-gather subject (handy with one node, or for "any node"). */
  async requestFirst<N extends OpName<Op>>(op: N, body: RequestOf<Op, N>, timeoutMs = this.timeoutMs): Promise<ReplyOf<Op, N>> {
    return this.call(await this.op(op), body, { timeoutMs });
  }

  /** Scatter-gather: every node's reply that arrives within the timeout (or `expected` replies). */
  async requestAll<N extends OpName<Op>>(op: N, body: RequestOf<Op, N>, opts: { timeoutMs?: number; expected?: number } = {}): Promise<NodeReply<ReplyOf<Op, N>>[]> {
    return this.callAll(await this.op(op), body, opts);
  }

  /**
   * Sends any declared op, by its declaration (the CLI does; so can a program with its own ops).
   * A node's refusal is an AdminRequestError: DCNET_E_ADMIN_PERMISSION_DENIED with the node's
   * "permission denied: <op> needs <role>" when this client's role is too weak, else DCNET_E_ADMIN_ERROR.
   */
  async call<Q, R>(op: OpDef<string, Q, R>, body: Q, opts: CallOptions = {}): Promise<R> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const subjects = this.transport.subjects;
    const node = opts.node ?? "(any)";
    const subject = opts.node === undefined ? subjects.adminAllOp(this.role, op.name) : subjects.adminOp(this.role, opts.node, op.name);
    let env: Envelope<R | ErrorBody>;
    try {
      env = await this.transport.request(subject, op.request, body, [op.reply, ERROR_KIND], { timeoutMs });
    } catch (err) {
      throw describe(err, node, subjects.cluster, timeoutMs);
    }
    if (isReply(env, op.reply.kind)) return env.body;
    throw refusal(ERROR_KIND.schema.parse(env.body), node);
  }

  async callAll<Q, R>(op: OpDef<string, Q, R>, body: Q, opts: { timeoutMs?: number; expected?: number } = {}): Promise<NodeReply<R>[]> {
    const subject = this.transport.subjects.adminAllOp(this.role, op.name);
    const replies = await this.transport.requestMany(subject, op.request, body, [op.reply, ERROR_KIND], {
      timeoutMs: opts.timeoutMs ?? this.timeoutMs,
      ...(opts.expected !== undefined ? { expected: opts.expected } : {}),
    });
    return replies.map((env) => toNodeReply(env, op.reply.kind)).sort((a, b) => a.node.localeCompare(b.node));
  }

  private async op<N extends OpName<Op>>(name: N): Promise<OpDef<N, RequestOf<Op, N>, ReplyOf<Op, N>>> {
    // The standard list is loaded on first use rather than imported: node/ops.ts declares its ops with
    // this folder's kit (admin/ops.ts, which exports this client), so an import would be a cycle.
    this.#byName ??= (this.ops ? Promise.resolve(this.ops) : import("../node/ops.js").then((m) => m.ALL_OPS)).then((ops) => new Map<string, AnyOp>(ops.map((o) => [o.name, o])));
    const found = (await this.#byName).get(name);
    if (!found) throw new AdminRequestError(ADMIN_ERRORS.badRequest, `no admin operation "${name}" in this client's list`);
    // The map is keyed by each op's own name, so the op found under N is the op named N of the list.
    return found as OpDef<N, RequestOf<Op, N>, ReplyOf<Op, N>>;
  }
}

/** The transport validated each body against the kind it claims, so the kind tells which body it is. */
function isReply<R>(env: Envelope<R | ErrorBody>, replyKind: string): env is Envelope<R> {
  return env.kind === replyKind;
}

function toNodeReply<R>(env: Envelope<R | ErrorBody>, replyKind: string): NodeReply<R> {
  if (isReply(env, replyKind)) return { node: env.from, ok: true, body: env.body };
  const e = ERROR_KIND.schema.parse(env.body);
  return { node: env.from, ok: false, error: `${e.code}: ${e.message}` };
}

/** The node's error reply as the client reports it; a denial keeps the node's own sentence. */
function refusal(e: ErrorBody, node: string): AdminRequestError {
  if (e.code === ADMIN_ERRORS.permissionDenied) return new AdminRequestError(ADMIN_ERRORS.permissionDenied, e.message);
  return new AdminRequestError("DCNET_E_ADMIN_ERROR", `node "${node}" refused the request: ${e.message}`);
}

// Transport errors are told apart by their stable code (transport/errors.ts): the transport's door
// brings the NATS client, which a light client (the CLI's) should not import for three classes.
function hasCode<E>(err: unknown, code: TransportErrorCode): err is E {
  return err instanceof Error && "code" in err && err.code === code;
}

function describe(err: unknown, node: string, cluster: string, timeoutMs: number): AdminRequestError {
  if (hasCode<NoRespondersError>(err, "DCNET_E_NO_RESPONDERS")) {
    return new AdminRequestError("DCNET_E_NO_SUCH_NODE", `no node "${node}" in cluster "${cluster}": nothing answers on ${err.subject}`, { cause: err });
  }
  if (hasCode<TimeoutError>(err, "DCNET_E_TIMEOUT")) {
    return new AdminRequestError("DCNET_E_TIMEOUT", `node "${node}" did not answer within ${timeoutMs} ms (${err.subject})`, { cause: err });
  }
  if (hasCode<ServiceError>(err, "DCNET_E_SERVICE_ERROR")) {
    return new AdminRequestError("DCNET_E_ADMIN_ERROR", `node "${node}" refused the request: ${err.description}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new AdminRequestError("DCNET_E_REQUEST_FAILED", `request to node "${node}" failed: ${message}`, { cause: err });
}
