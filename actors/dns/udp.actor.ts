// One UDP listener per bind address (dcos_dns_udp_server). Answers through the shared QueryPath; the
// socket's receive buffer (1 MiB, as dcos-net) is the only queue, so a flood costs dropped datagrams,
// never memory. An address that cannot be bound (in use, not configured yet) is retried every few
// seconds with a loud log, instead of crash-looping the node: the rest of the node stays useful.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { Logger } from "pino";
import type { Behaviour } from "../../supervisors/index.js";
import type { QueryPath } from "./serve.js";
import { formatAddress, splitListen } from "../../config/index.js";
import { bindOrRetry, handleListenerMsg, type ListenerMsg, type ListenerState } from "./listener.js";

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
  const tryBind = (state: ListenerState<Socket>, ctx: { self: { tell(m: UdpMsg): void } }): Promise<void> =>
    bindOrRetry(
      state,
      "DNS UDP",
      deps.listen,
      deps.logger,
      async () => {
        const socket = await bind();
        // After bind, an error (e.g. the interface went away) is a crash: the supervisor rebinds.
        socket.on("error", (error) => ctx.self.tell({ type: "socket-error", error }));
        return { handle: socket, address: formatAddress(socket.address()) };
      },
      () => ctx.self.tell({ type: "bind" }),
    );
  return {
    async init(ctx) {
      const state: ListenerState<Socket> = { failures: 0 };
      await tryBind(state, ctx);
      return state;
    },
    handle: (state, msg, ctx) => handleListenerMsg(state, msg, () => tryBind(state, ctx)),
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
