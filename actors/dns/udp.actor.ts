// One UDP listener per bind address (dcos_dns_udp_server). Answers through the shared QueryPath; the
// socket's receive buffer (1 MiB, as dcos-net) is the only queue, so a flood costs dropped datagrams,
// never memory. An address that cannot be bound (in use, not configured yet) is retried every few
// seconds with a loud log, instead of crash-looping the node: the rest of the node stays useful.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { Logger } from "pino";
import type { Behaviour } from "../../supervisors/index.js";
import type { QueryPath } from "./serve.js";
import { splitListen } from "../node/metrics-http.actor.js";
import { BIND_RETRY_MS, isBindProblem, type ListenerMsg, type ListenerState } from "./listener.js";

export type UdpMsg = ListenerMsg;

function identityLookup(address: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, isIPv6(address) ? 6 : 4);
}

export interface UdpDeps {
  readonly listen: string;
  readonly path: () => QueryPath;
  readonly logger: Logger;
  readonly recvBufferBytes?: number;
}

export function udpBehaviour(deps: UdpDeps): Behaviour<ListenerState<Socket>, UdpMsg> {
  const bind = async (): Promise<Socket> => {
    const { host, port } = splitListen(deps.listen);
    // Replies go to rinfo.address, always an IP literal: an identity lookup lets send() go straight
    // to the kernel instead of through dns.lookup and a nextTick for every answer.
    const socket = createSocket({ type: isIPv6(host) ? "udp6" : "udp4", recvBufferSize: deps.recvBufferBytes ?? 1 << 20, lookup: identityLookup });
    const path = deps.path();
    // One function per socket, not a closure per datagram: this runs for every query.
    const reply = (answer: Buffer, to: RemoteInfo): void => socket.send(answer, to.port, to.address);
    socket.on("message", (msg, rinfo) => path.handle(msg, "udp", rinfo, reply));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(port, host, () => {
          socket.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      throw err;
    }
    return socket;
  };
  const tryBind = async (state: ListenerState<Socket>, ctx: { self: { tell(m: UdpMsg): void } }): Promise<void> => {
    try {
      const socket = await bind();
      // After bind, an error (e.g. the interface went away) is a crash: the supervisor rebinds.
      socket.on("error", (error) => ctx.self.tell({ type: "socket-error", error }));
      const a = socket.address();
      state.handle = socket;
      state.address = `${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`;
      deps.logger.info({ address: state.address }, "DNS UDP listener ready");
    } catch (err) {
      if (!isBindProblem(err)) throw err;
      if (state.failures++ % 30 === 0) deps.logger.error({ listen: deps.listen, err: (err as Error).message }, `cannot bind DNS UDP ${deps.listen}; retrying every ${BIND_RETRY_MS / 1000} s`);
      state.retry = setTimeout(() => ctx.self.tell({ type: "bind" }), BIND_RETRY_MS);
      state.retry.unref();
    }
  };
  return {
    async init(ctx) {
      const state: ListenerState<Socket> = { failures: 0 };
      await tryBind(state, ctx);
      return state;
    },
    async handle(state, msg, ctx) {
      switch (msg.type) {
        case "socket-error":
          throw msg.error;
        case "bind":
          await tryBind(state, ctx);
          return state;
        case "address":
          msg.reply(state.address ?? "");
          return state;
      }
    },
    terminate(state) {
      clearTimeout(state.retry);
      const socket = state.handle;
      if (!socket) return;
      return new Promise<void>((r) => {
        try {
          socket.close(() => r());
        } catch {
          r();
        }
      });
    },
  };
}
