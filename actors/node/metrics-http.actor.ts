// The node's Prometheus endpoint: GET /metrics serves every metric of the node's registry (DNS,
// gossip, transport, catalogue, admin) in the text format. An actor so that a failed bind or a
// crash is supervised like everything else, and the port is released on shutdown.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Behaviour } from "../../supervisors/index.js";
import { formatAddress, splitListen } from "../../config/index.js";

type MetricsHttpMsg = { readonly type: "address"; readonly reply: (addr: string) => void } | { readonly type: "bind" };

interface MetricsHttpState {
  server?: Server;
  address?: string;
  retry?: NodeJS.Timeout;
  failures: number;
}

interface MetricsHttpDeps {
  /** `ip:port` or `[ip6]:port`. */
  readonly listen: string;
  readonly registry: Registry;
  readonly logger: Logger;
}

export function metricsHttpBehaviour(deps: MetricsHttpDeps): Behaviour<MetricsHttpState, MetricsHttpMsg> {
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("dcnet serves GET /metrics here\n");
      return;
    }
    deps.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": deps.registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`collecting metrics failed: ${err.message}\n`),
    );
  };
  // A port in use (say, two nodes on one host) is retried with a loud log rather than crash-looping the node.
  const tryBind = async (state: MetricsHttpState, tell: (m: MetricsHttpMsg) => void): Promise<void> => {
    const server = createServer(serve);
    const { host, port } = splitListen(deps.listen);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      if (!["EADDRINUSE", "EADDRNOTAVAIL", "EACCES"].includes((err as { code?: string }).code ?? "")) throw err;
      if (state.failures++ % 30 === 0) deps.logger.error({ listen: deps.listen, err: (err as Error).message }, "cannot bind the metrics endpoint; retrying every 2 s");
      state.retry = setTimeout(() => tell({ type: "bind" }), 2000);
      state.retry.unref();
      return;
    }
    const a = server.address();
    state.server = server;
    state.address = a && typeof a === "object" ? formatAddress(a) : deps.listen;
    deps.logger.info({ address: state.address }, "metrics endpoint listening (GET /metrics)");
  };
  return {
    async init(ctx) {
      const state: MetricsHttpState = { failures: 0 };
      await tryBind(state, (m) => ctx.self.tell(m));
      return state;
    },
    async handle(state, msg, ctx) {
      if (msg.type === "bind") await tryBind(state, (m) => ctx.self.tell(m));
      else msg.reply(state.address ?? "");
      return state;
    },
    async terminate(state) {
      clearTimeout(state.retry);
      const server = state.server;
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
