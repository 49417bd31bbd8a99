// The portable UDP engine: one node:dgram socket, one 'message' event and one send per datagram.
// Used where the batched engine cannot load (no compiler at install time) or by config.
import { createSocket, type RemoteInfo } from "node:dgram";
import { isIPv6 } from "node:net";
import type { QueryPath } from "./serve.js";
import type { UdpServer, UdpServerOptions } from "./udp-engine.js";

function identityLookup(address: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, isIPv6(address) ? 6 : 4);
}

export async function openDgramUdp(opts: UdpServerOptions, path: QueryPath, onError: (err: Error) => void): Promise<UdpServer> {
  // Replies go to rinfo.address, always an IP literal: an identity lookup lets send() go straight
  // to the kernel instead of through dns.lookup and a nextTick for every answer.
  const socket = createSocket({ type: isIPv6(opts.host) ? "udp6" : "udp4", recvBufferSize: opts.recvBufferBytes, lookup: identityLookup });
  // One function per socket, not a closure per datagram: this runs for every query.
  const reply = (answer: Buffer, to: RemoteInfo): void => socket.send(answer, to.port, to.address);
  socket.on("message", (msg, rinfo) => path.handle(msg, "udp", rinfo, reply));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(opts.port, opts.host, () => {
        socket.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    socket.close();
    throw err;
  }
  // After bind, an error (e.g. the interface went away) is a crash: the supervisor rebinds.
  socket.on("error", onError);
  const address = socket.address();
  return {
    engine: "dgram",
    address,
    stats: () => undefined,
    close: () =>
      new Promise<void>((resolve) => {
        try {
          socket.close(() => resolve());
        } catch {
          resolve();
        }
      }),
  };
}
