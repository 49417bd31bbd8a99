// The HTTP API's server: binds `api.listen` (plain on loopback; beyond it, TLS with client
// certificates of the cluster's CA), serves the routes of routes.ts, and releases the port on stop.
// A port in use is retried every 2 s with a loud log rather than crash-looping the node, as the
// metrics endpoint does.
import { readFileSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Behaviour, ActorRef } from "../../supervisors/index.js";
import { counter } from "../../observability/metrics.js";
import { formatAddress, splitListen, type Config } from "../../config/index.js";
import { loadCredential, USER_ROLES } from "../../transport/auth/index.js";
import { buildApi } from "./routes.js";
import { actorSources } from "./sources.js";

export type ApiHttpMsg = { readonly type: "address"; readonly reply: (addr: string) => void } | { readonly type: "bind" };

interface ApiHttpState {
  app?: FastifyInstance;
  close?: () => void;
  address?: string;
  retry?: NodeJS.Timeout;
  failures: number;
}

export interface ApiHttpDeps {
  readonly config: Config;
  readonly version: string;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly lookup: <M>(path: string) => ActorRef<M> | undefined;
}

interface Tls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** The server's TLS material: its certificate and key, and the CA its clients must chain to. */
function tlsMaterial(config: Config): Tls | undefined {
  const tls = config.api.tls;
  if (!tls) return undefined;
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new Error(`api.tls.${what} ${file} cannot be read: ${(err as Error).message}`, { cause: err });
    }
  };
  const ca = tls.ca !== undefined ? read(tls.ca, "ca") : config.nats.credentials !== undefined ? loadCredential(config.nats.credentials).tls.ca : undefined;
  if (ca === undefined) throw new Error("api.tls needs the CA clients' certificates chain to: set api.tls.ca, or nats.credentials (its CA is used)");
  return { cert: read(tls.cert, "cert"), key: read(tls.key, "key"), ca };
}

/** The client's certificate must be a person's or tool's of this cluster (viewer, operator, admin): the API is read-only, viewer is enough. */
export function clientRefusal(socket: unknown, cluster: string): string | undefined {
  const s = socket as Partial<TLSSocket>;
  if (typeof s.getPeerCertificate !== "function") return "TLS required";
  const subject = s.getPeerCertificate().subject as Record<string, string | string[] | undefined> | undefined;
  const org = subject?.["O"];
  const role = subject?.["OU"];
  if (org !== `dcnet-${cluster}`) return `certificate of ${typeof org === "string" ? org : "no dcnet cluster"}, not of cluster ${cluster}`;
  if (typeof role !== "string" || !(USER_ROLES as readonly string[]).includes(role)) return `role ${String(role)} may not use the API (viewer, operator or admin)`;
  return undefined;
}

export function apiHttpBehaviour(deps: ApiHttpDeps): Behaviour<ApiHttpState, ApiHttpMsg> {
  const requests = counter(deps.registry, "dcnet_api_requests_total", "HTTP API requests answered, by route and status code (404: unknown path, 405: wrong method, 400: bad parameter, 403: refused client).", ["route", "code"]);
  const tryBind = async (state: ApiHttpState, tell: (m: ApiHttpMsg) => void): Promise<void> => {
    const tls = tlsMaterial(deps.config);
    const sources = actorSources({ lookup: deps.lookup, registry: deps.registry });
    const cluster = deps.config.cluster;
    const app = buildApi({
      config: deps.config,
      version: deps.version,
      sources,
      requests,
      ...(tls ? { server: { https: { ...tls, requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.2" } }, authorize: (socket: unknown) => clientRefusal(socket, cluster) } : {}),
    });
    const { host, port } = splitListen(deps.config.api.listen);
    try {
      await app.listen({ host: host.replace(/^\[|\]$/g, ""), port });
    } catch (err) {
      sources.close();
      await app.close().catch(() => undefined);
      if (!["EADDRINUSE", "EADDRNOTAVAIL", "EACCES"].includes((err as { code?: string }).code ?? "")) throw err;
      // warn, not error: several nodes on one host (tests, `dcnet up` beside a node) share the default port.
      if (state.failures++ % 30 === 0) deps.logger.warn({ listen: deps.config.api.listen, err: (err as Error).message }, "cannot bind the HTTP API; retrying every 2 s");
      state.retry = setTimeout(() => tell({ type: "bind" }), 2000);
      state.retry.unref();
      return;
    }
    const a = app.server.address();
    state.app = app;
    state.close = () => sources.close();
    state.address = a && typeof a === "object" ? formatAddress(a) : deps.config.api.listen;
    deps.logger.info({ address: state.address, tls: tls !== undefined }, `HTTP API listening (${tls ? "https, client certificates required" : "http"})`);
  };
  return {
    async init(ctx) {
      const state: ApiHttpState = { failures: 0 };
      await tryBind(state, (m) => ctx.self.tell(m));
      return state;
    },
    async handle(state, msg, ctx) {
      if (msg.type === "bind") await tryBind(state, (m) => ctx.self.tell(m));
      else msg.reply(state.address ?? "");
      return state;
    },
    // A bind retry every 2 s while the address is taken: background work, not traced by default (observability/README.md).
    background: (msg) => msg.type === "bind",
    async terminate(state) {
      clearTimeout(state.retry);
      state.close?.();
      if (!state.app) return;
      state.app.server.closeAllConnections();
      await state.app.close();
    },
  };
}
