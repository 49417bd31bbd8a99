// One admin operation, declared once by the subsystem that owns it: its name on the wire, request and
// reply schemas, the handler the node runs, the `dcnet ctl` sub-commands that send it and how its reply
// reads to a person. The admin actor serves a list of these and `dcnet ctl` builds its commands from
// the same list, so adding an op touches the owner's `ops.ts` only.
//
// Light on purpose: `dcnet ctl` imports every op declaration at start-up, so this module and the
// `ops.ts` modules that use it import zod and types only; a handler loads heavy code when it runs.
import type { z } from "zod";
import type { Logger } from "pino";
import type { ActorRef, Tree } from "../../supervisors/index.js";
import type { AdminRole, KindDef, TraceCarrier, Transport } from "../../transport/index.js";
import type { Config } from "../../config/index.js";
import type { LogHub } from "../../observability/logger.js";
import { ADMIN_ERRORS, AdminRequestError } from "./errors.js";

/** What a handler may use: the node's context, given by the admin actor for each request. */
export interface OpContext {
  readonly config: Config;
  readonly version: string;
  readonly startedAt: number;
  /** The admin actor's logger. */
  readonly logger: Logger;
  readonly logs: LogHub;
  readonly transport: Transport;
  /** The node's tree; undefined only while the node is starting. */
  readonly tree: Tree | undefined;
  /**
   * The actor at `path` (a subsystem knows where its supervisor mounts its actors) when it is
   * running; otherwise an AdminOpError DCNET_E_ADMIN_UNAVAILABLE (503) naming it, plus `hint`.
   */
  actor<M>(path: string, hint?: string): ActorRef<M>;
  /** The request's trace context, for a message to another actor: a mailbox does not carry it. */
  traceCarrier(): TraceCarrier | undefined;
  /** Runs `f` once the reply has left: side effects that would stop this actor or the node. */
  afterReply(f: () => void): void;
  /** Ordered shutdown of the node. */
  shutdown(reason: string): void;
}

/** A word of `dcnet ctl` that groups sub-commands (`state`, `task`); declared once, used by each op in it. */
export interface CliGroup {
  readonly word: string;
  readonly description: string;
}

/** The command line of one invocation, as a sub-command's `request` reads it. */
export interface CliInput {
  /** Positional argument `i` (0-based); commander has already refused a missing required one. */
  arg(i: number): string;
  optionalArg(i: number): string | undefined;
  /** A sub-command option by its long name without dashes (`ttl` for `--ttl <ms>`). */
  option(name: string): string | undefined;
  /** The text of a file, or of stdin for "-". */
  readText(source: string): Promise<string>;
}

export interface CliCommand<Q> {
  readonly group?: CliGroup;
  /** The sub-command's word and arguments in commander's notation: "get <key>", "keys [prefix]". */
  readonly command: string;
  readonly description: string;
  readonly options?: ReadonlyArray<{ readonly flags: string; readonly description: string }>;
  /** A write or a fault: refused without --node or --all rather than sent to whichever node answers first. */
  readonly needsTarget?: boolean;
  /** The request body; a throw is a usage error (`dcnet: <message>`, exit 2) and nothing is sent. */
  request(input: CliInput): Q | Promise<Q>;
}

/** A declared op. Methods (not function properties) so that any op is an `AnyOp`. */
export interface OpDef<N extends string, Q, R> {
  readonly name: N;
  /** The weakest caller role that may run it (roles.ts). */
  readonly role: AdminRole;
  readonly request: KindDef<Q>;
  readonly reply: KindDef<R>;
  readonly cli: ReadonlyArray<CliCommand<Q>>;
  handle(req: Q, ctx: OpContext): R | Promise<R>;
  /** The reply as `dcnet ctl` prints it; `rttMs` is the round trip the CLI measured. */
  human(reply: R, rttMs: number): string;
  /** One line per node for `dcnet ctl --all`. */
  summary(reply: R): string;
}

/** Any op, its types erased: what the admin actor serves and the CLI registers. */
export type AnyOp = OpDef<string, unknown, unknown>;
export type OpName<O> = O extends OpDef<infer N, unknown, unknown> ? N : never;
export type RequestOf<O, N extends string> = O extends OpDef<infer M, infer Q, unknown> ? (M extends N ? Q : never) : never;
export type ReplyOf<O, N extends string> = O extends OpDef<infer M, unknown, infer R> ? (M extends N ? R : never) : never;

export interface OpSpec<N extends string, Q, R> {
  /** The last token of the op's subjects; lower-case words and dashes (transport's OP_PATTERN). */
  readonly name: N;
  /**
   * The weakest caller role that may run it: `viewer` reads, `operator` changes what the node
   * serves (tasks, state, log level), `admin` stops or breaks the node. Callers below it get 403
   * DCNET_E_ADMIN_PERMISSION_DENIED and nothing runs.
   */
  readonly role: AdminRole;
  /** Validated at the border (envelope kind `admin.<name>`) before the handler sees it. */
  readonly request: z.ZodType<Q>;
  readonly reply: z.ZodType<R>;
  /** Envelope kind of the reply; default `admin.<name>.reply`. Ops sharing a reply shape share its kind. */
  readonly replyKind?: string;
  readonly cli?: ReadonlyArray<CliCommand<NoInfer<Q>>>;
  handle(req: NoInfer<Q>, ctx: OpContext): NoInfer<R> | Promise<NoInfer<R>>;
  human(reply: NoInfer<R>, rttMs: number): string;
  summary(reply: NoInfer<R>): string;
}

/** Declares an op; the request and reply types come from the schemas and flow to handler and formatters. */
export function defineOp<const N extends string, Q, R>(spec: OpSpec<N, Q, R>): OpDef<N, Q, R> {
  return Object.freeze({
    name: spec.name,
    role: spec.role,
    request: kind(`admin.${spec.name}`, spec.request),
    reply: kind(spec.replyKind ?? `admin.${spec.name}.reply`, spec.reply),
    cli: spec.cli ?? [],
    handle: spec.handle,
    human: spec.human,
    summary: spec.summary,
  });
}

/** A message kind without loading the transport (its door brings the NATS client); the admin actor checks names. */
export function kind<B>(name: string, schema: z.ZodType<B>): KindDef<B> {
  return Object.freeze({ kind: name, schema });
}

export function cliGroup(word: string, description: string): CliGroup {
  return Object.freeze({ word, description });
}

/**
 * For a sub-command's `request`: `value` checked against `schema`, or a usage error naming `what` and
 * the problems (the CLI prints it and exits 2 without sending anything).
 */
export function cliParse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.slice(0, 3).map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
  throw new AdminRequestError(ADMIN_ERRORS.badRequest, `${what}: ${problems.join("; ")}`);
}
