// The worker thread behind the node's CNI socket (actors/overlay/cni-socket.actor.ts): the plugin's
// steps run `ip`/`nft` synchronously (run.ts), which must not stall the node's event loop (its DNS
// listeners), so calls run here, one at a time, as the process would run them.
import { serveThread } from "../../supervisors/thread.js";
import { pluginCall } from "./call.js";
import { encodeOutcome, parseCall } from "./wire.js";

serveThread<Uint8Array, Uint8Array>(async (raw) => {
  const call = parseCall(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  if (!call.ok) return encodeOutcome({ exit: 1, stdout: `${JSON.stringify({ cniVersion: "1.0.0", code: 4, msg: `dcnet-cni: ${call.error}` })}\n`, stderr: "" });
  // PATH as the process would have it: the node's own (the runtime's does not reach the socket).
  return encodeOutcome(pluginCall({ ...call.env, PATH: process.env.PATH }, () => call.stdin));
});
