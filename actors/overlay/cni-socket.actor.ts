// The node's CNI socket: the compiled dcnet-cni front end (native/cni-shim/) hands each plugin call
// here, and the same plugin code the Node.js plugin runs (cli/cni/call.ts) answers it warm, on a
// worker thread (cli/cni/socket-server.ts). Why: a container runtime starts the plugin once per
// container start, and Node.js alone takes longer to start than Debian's bridge + host-local take for
// a whole ADD (cli/cni/README.md has the figures). Without this actor (node down, overlay off) the
// front end runs the Node.js plugin itself, so calls still work, only slower.
// Another process answering on the path (a second node on the host) is reported and left alone:
// this node runs without the socket, and the front end keeps working through the other one.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Behaviour } from "../../supervisors/index.js";
import { counter, gauge } from "../../observability/metrics.js";
import { listenCniSocket, SocketBusy, type CniSocketServer } from "../../cli/cni/socket-server.js";
import { CniSocketBusyError } from "./errors.js";

export type CniSocketMsg = { readonly type: "thread-died"; readonly error: Error };

interface CniSocketState {
  /** Absent when another process holds the path. */
  readonly server?: CniSocketServer;
}

export interface CniSocketDeps {
  readonly path: string;
  readonly logger: Logger;
  readonly metrics: Registry;
}

export function cniSocketBehaviour(deps: CniSocketDeps): Behaviour<CniSocketState, CniSocketMsg> {
  const calls = counter(deps.metrics, "dcnet_overlay_cni_socket_calls_total", "Plugin calls on the node's CNI socket, by outcome (ok: the plugin answered, its error objects included; failed: the call was too large or the worker did not answer)", ["outcome"]);
  const busy = gauge(deps.metrics, "dcnet_overlay_cni_socket_busy", "1 when another process answers on overlay.cniSocket and this node runs without it (DCNET_E_OVERLAY_CNI_SOCKET_BUSY)");
  return {
    async init(ctx) {
      try {
        const server = await listenCniSocket(deps.path, {
          onCall: (o) => {
            calls.inc({ outcome: o.ok ? "ok" : "failed" });
            if (!o.ok) deps.logger.warn({ reason: o.reason }, "CNI socket: a call was not answered");
          },
          // A dead thread is this actor's crash: the supervisor restarts both.
          onDeath: (error) => ctx.self.tell({ type: "thread-died", error }),
        });
        busy.set(0);
        deps.logger.info({ path: deps.path }, "CNI socket ready: dcnet-cni calls run in the node");
        return { server };
      } catch (err) {
        if (!(err instanceof SocketBusy)) throw err;
        const e = new CniSocketBusyError(deps.path);
        busy.set(1);
        deps.logger.error({ code: e.code, path: deps.path }, e.message);
        return {};
      }
    },
    handle(_state, msg) {
      throw msg.error;
    },
    async terminate(state) {
      await state.server?.close();
    },
  };
}
