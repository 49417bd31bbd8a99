// One UDP listener per bind address (dcos_dns_udp_server). Answers through the shared QueryPath on
// the engine chosen for the node (udp-engine.ts); the socket's receive buffer (1 MiB, as dcos-net) is
// the only queue, so a flood costs dropped datagrams, never memory. An address that cannot be bound
// (in use, not configured yet) is retried every few seconds with a loud log, instead of
// crash-looping the node: the rest of the node stays useful. A socket that fails after bind (dgram's
// error event, the batch engine's fatal receive error) crashes the actor, and its restart binds anew.
import type { Logger } from "pino";
import type { Behaviour } from "../../../supervisors/index.js";
import type { QueryPath } from "./serve.js";
import type { DnsMetrics } from "../metrics.js";
import type { EngineSelection, UdpServer } from "./udp-engine.js";
import { formatAddress, splitListen } from "../../../config/index.js";
import { bindOrRetry, handleListenerMsg, isBindRetry, type DnsListenerMsg, type ListenerState } from "./listener.js";
import { openBatchUdp } from "./udp-batch.js";
import { openDgramUdp } from "./udp-dgram.js";

export type UdpMsg = DnsListenerMsg;

interface UdpDeps {
  readonly listen: string;
  readonly path: () => QueryPath;
  readonly engine: EngineSelection;
  readonly metrics: DnsMetrics;
  readonly logger: Logger;
  readonly recvBufferBytes?: number;
}

export function udpBehaviour(deps: UdpDeps): Behaviour<ListenerState<UdpServer>, UdpMsg> {
  // Outlives the actor's restarts: a socket that keeps failing the same way logs it once.
  const logged = new Set<string>();
  const open = async (onError: (err: Error) => void): Promise<UdpServer> => {
    const { host, port } = splitListen(deps.listen);
    const opts = { host, port, recvBufferBytes: deps.recvBufferBytes ?? 1 << 20 };
    return deps.engine.engine === "batch"
      ? openBatchUdp(deps.engine.binding, opts, deps.path(), deps.metrics, deps.logger, { listen: deps.listen, logged, onDead: onError })
      : openDgramUdp(opts, deps.path(), onError);
  };
  const tryBind = (state: ListenerState<UdpServer>, ctx: { self: { tell(m: UdpMsg): void } }): Promise<void> =>
    bindOrRetry(
      state,
      `DNS UDP (${deps.engine.engine})`,
      deps.listen,
      deps.logger,
      async () => {
        const server = await open((error) => ctx.self.tell({ type: "socket-error", error }));
        deps.metrics.udpListener(deps.listen, server.engine, () => server.stats());
        return { handle: server, address: formatAddress(server.address) };
      },
      () => ctx.self.tell({ type: "bind" }),
    );
  return {
    async init(ctx) {
      const state: ListenerState<UdpServer> = { failures: 0 };
      await tryBind(state, ctx);
      return state;
    },
    handle: (state, msg, ctx) => handleListenerMsg(state, msg, () => tryBind(state, ctx)),
    background: isBindRetry,
    async terminate(state) {
      clearTimeout(state.retry);
      if (!state.handle) return;
      deps.metrics.udpListener(deps.listen, undefined);
      await state.handle.close();
    },
  };
}
