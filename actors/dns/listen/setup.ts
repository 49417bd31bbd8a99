// What the DNS subtree's listeners share, made once per subtree by dns.sup.ts: the query path (the
// board's zones, the answer cache, and a way to the forwarder actor) and the UDP engine for the node.
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { ActorRef } from "../../../supervisors/index.js";
import type { Config } from "../../../config/index.js";
import { ForwardFailedError, ForwarderUnavailableError, UdpEngineUnavailableError } from "../errors.js";
import type { ForwardRequest, ForwardResult } from "../forward/index.js";
import { recursionOffered, type ForwarderMsg, type ForwardReply } from "../forwarder.actor.js";
import { ResponseCache } from "../wire/index.js";
import type { ZoneBoard } from "../board.js";
import type { DnsMetrics } from "../metrics.js";
import { QueryPath } from "./serve.js";
import { selectUdpEngine, type EngineSelection } from "./udp-engine.js";

interface QueryPathSetup {
  readonly dns: Config["dns"];
  readonly board: ZoneBoard;
  readonly metrics: DnsMetrics;
  readonly logger: Logger;
  readonly tracer?: Tracer;
  /** The forwarder actor right now; undefined while it restarts. */
  readonly forwarder: () => ActorRef<ForwarderMsg> | undefined;
}

/** The query path every listener of the subtree answers through; forwarded queries go to the forwarder actor. */
export function queryPathFor(s: QueryPathSetup): QueryPath {
  const { dns } = s;
  const forward = async (req: ForwardRequest): Promise<ForwardResult> => {
    const ref = s.forwarder();
    if (!ref) throw new ForwarderUnavailableError();
    const r = await ref.ask<ForwardReply>((reply) => ({ type: "forward", req, reply }), dns.queryTimeoutMs + 1000);
    if (!r.ok) throw new ForwardFailedError(r.error);
    return r.outcome;
  };
  return new QueryPath({
    board: s.board,
    cache: new ResponseCache({ rotation: dns.rotation, ...(dns.answerCache ? {} : { maxEntries: 0 }) }),
    metrics: s.metrics,
    logger: s.logger,
    ...(s.tracer ? { tracer: s.tracer } : {}),
    forward,
    options: { rotation: dns.rotation, maxUdpSize: dns.maxUdpSize, maxInflight: dns.maxInflight, traceEvery: dns.traceEvery, recursionAvailable: recursionOffered(dns) },
  });
}

/** The node's UDP engine (`dns.udpEngine`); `batch` demanded but unavailable stops the node with UdpEngineUnavailableError. */
export function udpEngineFor(choice: Config["dns"]["udpEngine"], logger: Logger): EngineSelection {
  const engine = selectUdpEngine(choice);
  if ("error" in engine) throw new UdpEngineUnavailableError(engine.error);
  if (engine.engine === "dgram" && choice === "auto") logger.warn({ why: engine.why }, "DNS over UDP runs on node:dgram, at about half the batch engine's throughput");
  return engine;
}
