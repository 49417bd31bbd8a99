// Client side of the admin protocol, for the CLI, benchmarks, tests and other programs.
import type { Transport, KindDef, Envelope } from "../../transport/index.js";
import { NoRespondersError, TimeoutError, ServiceError } from "../../transport/index.js";
import { kinds, ops, type OpName } from "./protocol.js";
import type { z } from "zod";

type ReplyOf<O extends OpName> = z.infer<(typeof ops)[O]["reply"]["schema"]>;
type RequestOf<O extends OpName> = z.infer<(typeof ops)[O]["request"]["schema"]>;

/** An admin request that did not produce a reply body; `message` is what the CLI prints. */
export class AdminRequestError extends Error {
  override readonly name = "AdminRequestError";
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface NodeReply<O extends OpName> {
  readonly node: string;
  readonly ok: boolean;
  readonly body?: ReplyOf<O>;
  readonly error?: string;
}

export class AdminClient {
  constructor(
    private readonly transport: Transport,
    private readonly timeoutMs = 2000,
  ) {}

  /** One node's reply; throws AdminRequestError naming the node, the problem and the subject. */
  async request<O extends OpName>(node: string, op: O, body: RequestOf<O>, timeoutMs = this.timeoutMs): Promise<ReplyOf<O>> {
    const subject = `${this.transport.subjects.adminNode(node)}.${op}`;
    try {
      const env = await this.transport.request(subject, ops[op].request as KindDef<RequestOf<O>>, body, [ops[op].reply as KindDef<ReplyOf<O>>], { timeoutMs });
      return env.body as ReplyOf<O>;
    } catch (err) {
      throw describe(err, node, this.transport.subjects.cluster, timeoutMs);
    }
  }

  /** The first node to answer on the scatter-gather subject (handy with one node, or for "any node"). */
  async requestFirst<O extends OpName>(op: O, body: RequestOf<O>, timeoutMs = this.timeoutMs): Promise<ReplyOf<O>> {
    const subject = `${this.transport.subjects.adminAll()}.${op}`;
    try {
      const env = await this.transport.request(subject, ops[op].request as KindDef<RequestOf<O>>, body, [ops[op].reply as KindDef<ReplyOf<O>>], { timeoutMs });
      return env.body as ReplyOf<O>;
    } catch (err) {
      throw describe(err, "(any)", this.transport.subjects.cluster, timeoutMs);
    }
  }

  /** Scatter-gather: every node's reply that arrives within the timeout (or `expected` replies). */
  async requestAll<O extends OpName>(op: O, body: RequestOf<O>, opts: { timeoutMs?: number; expected?: number } = {}): Promise<NodeReply<O>[]> {
    const subject = `${this.transport.subjects.adminAll()}.${op}`;
    const replies = await this.transport.requestMany(subject, ops[op].request as KindDef<RequestOf<O>>, body, [ops[op].reply as KindDef<unknown>, kinds.error as KindDef<unknown>], {
      timeoutMs: opts.timeoutMs ?? this.timeoutMs,
      ...(opts.expected !== undefined ? { expected: opts.expected } : {}),
    });
    return replies.map((r) => toNodeReply<O>(r)).sort((a, b) => a.node.localeCompare(b.node));
  }
}

function toNodeReply<O extends OpName>(env: Envelope<unknown>): NodeReply<O> {
  if (env.kind === kinds.error.kind) {
    const e = env.body as z.infer<typeof kinds.error.schema>;
    return { node: env.from, ok: false, error: `${e.code}: ${e.message}` };
  }
  return { node: env.from, ok: true, body: env.body as ReplyOf<O> };
}

function describe(err: unknown, node: string, cluster: string, timeoutMs: number): AdminRequestError {
  if (err instanceof NoRespondersError) {
    return new AdminRequestError("DCNET_E_NO_SUCH_NODE", `no node "${node}" in cluster "${cluster}": nothing answers on ${err.subject}`, { cause: err });
  }
  if (err instanceof TimeoutError) {
    return new AdminRequestError("DCNET_E_TIMEOUT", `node "${node}" did not answer within ${timeoutMs} ms (${err.subject})`, { cause: err });
  }
  if (err instanceof ServiceError) {
    return new AdminRequestError("DCNET_E_ADMIN_ERROR", `node "${node}" refused the request: ${err.description}`, { cause: err });
  }
  const e = err as Error;
  return new AdminRequestError("DCNET_E_REQUEST_FAILED", `request to node "${node}" failed: ${e.message}`, { cause: err });
}
