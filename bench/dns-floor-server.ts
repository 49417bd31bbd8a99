// The Node.js floor for bench/dns-qps: a bare dgram socket that answers every datagram with one
// fixed, pre-encoded A answer (the query id copied in), with no parsing, zones or metrics. What
// dcnet cannot beat on this runtime; its ratio to unbound shows the runtime's own cost.
//   tsx bench/dns-floor-server.ts <port>
import { createSocket } from "node:dgram";

const port = Number(process.argv[2]);
const answer = Buffer.from(
  // id 0, QR AA RD RA, 1 question, 1 answer: app-0000.marathon.mesos A → 10.0.0.1 (compressed owner)
  "0000858000010001000000000861707030303030086d61726174686f6e056d65736f730000010001c00c000100010000003c00040a000001",
  "hex",
);
// Identity lookup as in actors/dns/listen/udp-dgram.ts: the floor gets every trick dcnet uses.
const socket = createSocket({ type: "udp4", lookup: (address, _family, callback: (err: Error | null, address: string, family: number) => void) => callback(null, address, 4) });
socket.on("message", (msg, rinfo) => {
  const reply = Buffer.from(answer);
  reply[0] = msg[0] ?? 0;
  reply[1] = msg[1] ?? 0;
  socket.send(reply, rinfo.port, rinfo.address);
});
socket.bind(port, "127.0.0.1", () => process.send?.("ready"));
process.on("disconnect", () => process.exit(0));
