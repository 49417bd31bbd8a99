// One TCP listener per bind address: RFC 7766 length-prefixed messages, several queries per
// connection (answers may leave out of order, each carries its id), the connection kept open.
// Bounded everywhere a client could make us hold memory: connection count, message size, time to
// finish a started message (slowloris), idle time, and unread answers.
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import type { Behaviour } from "../../../supervisors/index.js";
import type { QueryPath } from "./serve.js";
import type { DnsMetrics } from "../metrics.js";
import { formatAddress, splitListen } from "../../../config/index.js";
import { bindOrRetry, handleListenerMsg, isBindRetry, type DnsListenerMsg, type ListenerState } from "./listener.js";

/** No query we answer is larger; a bigger length prefix is an attack or garbage. */
const MAX_TCP_QUERY_BYTES = 4096;
/** Answers the client has not read yet, per connection, before we give up on it. */
const MAX_UNREAD_BYTES = 1 << 20;

type TcpMsg = DnsListenerMsg;

interface TcpState extends ListenerState<Server> {
  readonly sockets: Set<Socket>;
}

interface TcpDeps {
  readonly listen: string;
  readonly path: () => QueryPath;
  readonly metrics: DnsMetrics;
  readonly logger: Logger;
  readonly idleMs: number;
  readonly maxConnections: number;
}

export function tcpBehaviour(deps: TcpDeps): Behaviour<TcpState, TcpMsg> {
  const open = deps.metrics.tcpConnections.labels(deps.listen);
  const closed = (reason: string) => deps.metrics.tcpRejected.inc({ listen: deps.listen, reason });
  const bind = async (sockets: Set<Socket>): Promise<Server> => {
    const path = deps.path();
    const server = createServer((socket) => {
      if (sockets.size >= deps.maxConnections) {
        closed("too-many-connections");
        socket.destroy();
        return;
      }
      sockets.add(socket);
      open.set(sockets.size);
      socket.once("close", () => {
        sockets.delete(socket);
        open.set(sockets.size);
      });
      socket.on("error", () => socket.destroy());
      serveConnection(socket, path, deps.idleMs, closed);
    });
    const { host, port } = splitListen(deps.listen);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port, backlog: 511 }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return server;
  };
  const tryBind = (state: TcpState, ctx: { self: { tell(m: TcpMsg): void } }): Promise<void> =>
    bindOrRetry(
      state,
      "DNS TCP",
      deps.listen,
      deps.logger,
      async () => {
        const server = await bind(state.sockets);
        server.on("error", (error) => ctx.self.tell({ type: "socket-error", error }));
        const a = server.address();
        return { handle: server, address: a && typeof a === "object" ? formatAddress(a) : deps.listen };
      },
      () => ctx.self.tell({ type: "bind" }),
    );
  return {
    async init(ctx) {
      const state: TcpState = { sockets: new Set(), failures: 0 };
      await tryBind(state, ctx);
      return state;
    },
    handle: (state, msg, ctx) => handleListenerMsg(state, msg, () => tryBind(state, ctx)),
    background: isBindRetry,
    async terminate(state) {
      clearTimeout(state.retry);
      for (const s of state.sockets) s.destroy();
      const server = state.handle;
      if (server) await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function serveConnection(socket: Socket, path: QueryPath, idleMs: number, closed: (reason: string) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  let partialTimer: NodeJS.Timeout | undefined;
  socket.setNoDelay(true);
  socket.setTimeout(idleMs, () => {
    closed("idle");
    socket.destroy();
  });
  socket.once("close", () => clearTimeout(partialTimer));
  const send = (reply: Buffer): void => {
    if (socket.destroyed) return;
    if (socket.writableLength > MAX_UNREAD_BYTES) {
      closed("unread-answers");
      socket.destroy();
      return;
    }
    const len = Buffer.allocUnsafe(2);
    len.writeUInt16BE(reply.length, 0);
    socket.write(Buffer.concat([len, reply]));
  };
  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let completed = false;
    while (pending.length >= 2) {
      const len = pending.readUInt16BE(0);
      if (len < 12 || len > MAX_TCP_QUERY_BYTES) {
        // Nothing after a bad length can be framed again: close rather than guess.
        closed(len < 12 ? "short-message" : "oversized-message");
        socket.destroy();
        return;
      }
      if (pending.length < 2 + len) break;
      const msg = pending.subarray(2, 2 + len);
      pending = pending.subarray(2 + len);
      completed = true;
      path.handle(Buffer.from(msg), "tcp", undefined, send);
    }
    if (completed || pending.length === 0) {
      clearTimeout(partialTimer);
      partialTimer = undefined;
    }
    if (pending.length > 0 && !partialTimer) {
      // A started message must be finished within idleMs, however slowly its bytes trickle in
      // (the idle timeout alone restarts with every byte).
      partialTimer = setTimeout(() => {
        closed("slow-message");
        socket.destroy();
      }, idleMs);
    }
  });
}
