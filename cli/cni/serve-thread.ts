// The worker thread behind the node's CNI socket (actors/overlay/cni-socket.actor.ts): the plugin's
// steps wait for `ip`/`nft` processes, which the node's event loop (its DNS listeners) must never
// wait on, so calls run here, one at a time, as the process would run them. Between calls the thread
// starts the next call's host-side `ip` ahead (run.ts, warmRun), so an ADD or DEL does not pay for
// that process's start.
import { serveThread } from "../../supervisors/thread.js";
import { pluginCall } from "./call.js";
import { HOST_IP } from "./netns.js";
import { warmRun } from "./run.js";
import { encodeOutcome, parseCall } from "./wire.js";

const warm = warmRun(HOST_IP);
warm.prepare();
/** The call before this one, settled: calls run one after another. */
let previous: Promise<unknown> = Promise.resolve();

async function answer(raw: Uint8Array): Promise<Uint8Array> {
  const call = parseCall(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  if (!call.ok) return encodeOutcome({ exit: 1, stdout: `${JSON.stringify({ cniVersion: "1.0.0", code: 4, msg: `dcnet-cni: ${call.error}` })}\n`, stderr: "" });
  // PATH as the process would have it: the node's own (the runtime's does not reach the socket).
  return encodeOutcome(await pluginCall({ ...call.env, PATH: process.env.PATH }, () => call.stdin, warm.run));
}

serveThread<Uint8Array, Uint8Array>((raw) => {
  const turn = previous.then(() => answer(raw));
  previous = turn.catch(() => undefined);
  // After the answer has gone back (setImmediate runs after the reply's postMessage).
  void turn.finally(() => setImmediate(warm.prepare));
  return turn;
});
