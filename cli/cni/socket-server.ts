// The socket side of the compiled front end (native/cni-shim/): each connection is one plugin call
// (wire.ts), answered by the plugin code on a worker thread (serve-thread.ts), one at a time as the
// thread takes them. The node's overlay runs it (actors/overlay/cni-socket.actor.ts); the CNI tests
// and bench run it alone in a lab namespace (integration/harness/cni-socket-server.ts).
// Root-only (mode 0600): a call creates interfaces and NAT rules.
import { chmodSync, mkdirSync, unlinkSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { dirname } from "node:path";
import { startThread } from "../../supervisors/thread.js";

export interface CniSocketHooks {
  /** After each call: answered (the plugin's own error objects included), or why not. */
  readonly onCall: (outcome: { readonly ok: true } | { readonly ok: false; readonly reason: string }) => void;
  /** The worker thread died: the owner restarts the whole server. */
  readonly onDeath: (err: Error) => void;
}

export interface CniSocketServer {
  close(): Promise<void>;
}

/** A CNI configuration is a few KiB; anything near this is not one. */
const MAX_CALL_BYTES = 1 << 20;
/** The plugin bounds each tool it runs at 10 s, and a call runs a handful of them. */
const CALL_TIMEOUT_MS = 60_000;

/** Another process answers on the path: it is not taken over. */
export class SocketBusy extends Error {
  constructor(readonly path: string) {
    super(`another process answers on ${path}`);
  }
}

export async function listenCniSocket(path: string, hooks: CniSocketHooks): Promise<CniSocketServer> {
  await claimPath(path);
  const thread = startThread<Uint8Array, Uint8Array>(new URL("./serve-thread.ts", import.meta.url), hooks.onDeath);
  const serve = (sock: Socket): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    sock.on("data", (d: Buffer) => {
      size += d.length;
      if (size > MAX_CALL_BYTES) {
        hooks.onCall({ ok: false, reason: "a call larger than 1 MiB" });
        sock.destroy();
        return;
      }
      chunks.push(d);
    });
    sock.on("error", () => undefined);
    sock.on("end", () => {
      thread.request(Buffer.concat(chunks), CALL_TIMEOUT_MS).then(
        (answer) => {
          hooks.onCall({ ok: true });
          sock.end(Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength));
        },
        (err: unknown) => {
          hooks.onCall({ ok: false, reason: err instanceof Error ? err.message : String(err) });
          sock.destroy();
        },
      );
    });
  };
  // Half-open: the front end shuts its write side to mark the end of stdin, then reads the answer.
  const server = createServer({ allowHalfOpen: true }, serve);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
  } catch (e) {
    await thread.terminate();
    throw e;
  }
  return {
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
      await thread.terminate();
    },
  };
}

/** Makes the folder and removes a stale socket; refuses one another process still answers on. */
async function claimPath(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const answering = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
  if (answering) throw new SocketBusy(path);
  try {
    unlinkSync(path);
  } catch {
    // nothing there
  }
}
