// The HTTP API's routes on fastify: dcos-net's `/v1/...` (dcos_rest, port 62080) and Mesos-DNS's
// (resolver.go, port 8123) on one server, same paths, shapes and status codes as the originals.
// Every route declares its parameter and response schemas; fastify checks the parameters (400 with
// the reason) and serialises the responses from the schemas. Read-only: other methods get 405.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { Counter } from "prom-client";
import type { Config } from "../../config/index.js";
import type { Backend } from "../catalogue/model.js";
import {
  cleanName,
  dcosHosts,
  dcosNodes,
  dcosServices,
  dcosVips,
  isMesosName,
  mesosDnsAxfr,
  mesosDnsEnumerate,
  mesosDnsHosts,
  mesosDnsServices,
  redact,
  type Answer,
  type FieldView,
  type Json,
  type ZoneRowLike,
} from "./shapes.js";
import type { DnsReply, QueryType } from "./resolver.js";
import { recordsBody, zoneRows, type RecordsPager } from "./records.js";

/** Where the API's data comes from: the node's actors (sources.ts), or a test's stand-ins. */
export interface ApiSources {
  vips(): Promise<ReadonlyMap<string, readonly Backend[]>>;
  /** Node facts by store key (`nodes/<id>`). */
  nodes(): Promise<ReadonlyMap<string, Readonly<Record<string, FieldView>>>>;
  query(name: string, type: QueryType): Promise<DnsReply>;
  /** One page of the zones' records in presentation form (the DNS zone actor's `records-page`). */
  recordsPage: RecordsPager;
  /** Prometheus text of the node's registry. */
  metrics(): Promise<{ readonly contentType: string; readonly text: string }>;
}

export interface ApiOptions {
  readonly config: Config;
  readonly version: string;
  readonly sources: ApiSources;
  /** Counts every answered request by route and status (dcnet_api_requests_total). */
  readonly requests?: Counter<"route" | "code">;
  /** fastify's own options (https, logger); the caller owns the listening. */
  readonly server?: Omit<FastifyServerOptions, "logger"> & { https?: unknown };
  /** Called for each request once TLS has verified its client: a reason to refuse it (403), or undefined. */
  readonly authorize?: (socket: unknown) => string | undefined;
}

/** dcos-net's registries (`/v1/metrics/:registry`) → the dcnet subsystems whose metrics (`dcnet_<subsystem>_…`) stand for them; `default` is all. */
const REGISTRY_SUBSYSTEMS: Readonly<Record<string, readonly string[]>> = {
  dns: ["dns"],
  l4lb: ["l4lb"],
  overlay: ["overlay"],
  lashup: ["gossip"],
  mesos_listener: ["catalogue"],
  api: ["api"],
};
export const METRIC_REGISTRIES: Readonly<Record<string, readonly string[]>> = {
  default: [""],
  ...Object.fromEntries(Object.entries(REGISTRY_SUBSYSTEMS).map(([r, subs]) => [r, subs.map((s) => `dcnet_${s}_`)])),
};

/** Keeps the metric families whose name starts with one of `prefixes` (HELP, TYPE and samples). */
export function filterMetrics(text: string, prefixes: readonly string[]): string {
  if (prefixes.includes("")) return text;
  const keep = (name: string) => prefixes.some((p) => name.startsWith(p));
  return text
    .split("\n")
    .filter((line) => {
      const m = /^# (?:HELP|TYPE) (\S+)/.exec(line) ?? /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
      return m?.[1] !== undefined && keep(m[1]);
    })
    .join("\n")
    .concat("\n");
}

const hostRow = { type: "object", properties: { host: { type: "string" }, ip: { type: "string" } }, required: ["host", "ip"] } as const;
const errorBody = { type: "object", properties: { code: { type: "integer" }, error: { type: "string" }, message: { type: "string" } }, required: ["code", "error", "message"] } as const;
const json = (properties: object, required: readonly string[]) => ({ type: "object", properties, required }) as const;

/** The API app, routes registered and ready to `listen`. */
export function buildApi(opts: ApiOptions): FastifyInstance {
  const { sources, config } = opts;
  // Fastify's own limit on a URL is far above any DNS name; ours says which parameter is wrong.
  const name = { type: "string", minLength: 1, maxLength: config.api.maxNameLength, pattern: "^[A-Za-z0-9_*.-]+$" } as const;
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 1024 }, ...(opts.server ?? {}) } as FastifyServerOptions) as unknown as FastifyInstance;
  const codeName: Record<number, string> = { 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable" };
  const fail = (code: number, message: string) => ({ code, error: codeName[code] ?? "Error", message });

  app.addHook("onResponse", async (req, reply) => {
    opts.requests?.inc({ route: req.routeOptions.url ?? "unknown", code: String(reply.statusCode) });
  });
  if (opts.authorize) {
    const authorize = opts.authorize;
    app.addHook("onRequest", async (req, reply) => {
      const why = authorize(req.raw.socket);
      if (why !== undefined) await reply.code(403).send(fail(403, why));
    });
  }
  app.setNotFoundHandler(async (req, reply) => reply.code(404).send(fail(404, `no route ${req.method} ${req.url.split("?")[0]}; the API serves GET /v1/{vips,nodes,version,config,hosts/{host},services/{service},records,enumerate,axfr,metrics[/{registry}]}`)));
  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    if (err.validation) return reply.code(400).send(fail(400, `bad ${err.validationContext ?? "request"}: ${err.message}`));
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 503;
    return reply.code(status).send(fail(status, err.message));
  });

  const route = <P>(url: string, schema: { params?: object; response: object; querystring?: object }, handler: (params: P, query: Record<string, unknown>) => Promise<unknown>, extra?: { contentType?: string }) => {
    app.route({
      method: ["GET", "HEAD"],
      url,
      schema: { ...schema, response: { ...schema.response, "4xx": errorBody, "5xx": errorBody } },
      handler: async (req, reply) => {
        const body = await handler(req.params as P, (req.query ?? {}) as Record<string, unknown>);
        if (extra?.contentType) void reply.type(extra.contentType);
        return body;
      },
    });
    // Read-only, as the originals: any other method on a known path is 405 with the allowed ones.
    app.route({
      method: ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
      url,
      handler: async (req, reply) => reply.code(405).header("allow", "GET, HEAD").send(fail(405, `${req.method} not allowed on ${url}: read-only, GET or HEAD`)),
    });
  };

  route("/v1/vips", {
    response: {
      200: {
        type: "array",
        items: json({ vip: { type: "string" }, protocol: { type: "string" }, backend: { type: "array", items: json({ ip: { type: "string" }, port: { type: "integer" } }, ["ip", "port"]) } }, ["vip", "protocol", "backend"]),
      },
    },
  }, async () => dcosVips(await sources.vips()));

  route("/v1/nodes", {
    querystring: { type: "object", properties: { force: { type: "string" } } },
    response: { 200: { type: "array", items: json({ private_ip: { type: "string" }, public_ips: { type: "array", items: { type: "string" } }, hostname: { type: "string" }, updated: { type: "string" } }, ["private_ip", "public_ips", "hostname", "updated"]) } },
  }, async () => dcosNodes(await sources.nodes()));

  route("/v1/version", { response: { 200: json({ Service: { type: "string" }, Version: { type: "string" } }, ["Service", "Version"]) } }, async () => ({ Service: "dcos-dns", Version: opts.version }));

  route("/v1/config", { response: { 200: { type: "object", additionalProperties: true } } }, async () => mesosDnsConfig(config));

  route<{ host: string }>("/v1/hosts/:host", { params: json({ host: name }, ["host"]), response: { 200: { type: "array", items: hostRow } } }, async ({ host }) => {
    const n = cleanName(host);
    if (!isMesosName(n)) return dcosHosts((await sources.query(n, "A")).answers);
    const [a, aaaa] = await Promise.all([sources.query(n, "A"), sources.query(n, "AAAA")]);
    return mesosDnsHosts(a.answers, aaaa.answers);
  });

  route<{ service: string }>("/v1/services/:service", {
    params: json({ service: name }, ["service"]),
    response: {
      200: { type: "array", items: { type: "object", properties: { service: { type: "string" }, host: { type: "string" }, ip: { type: "string" }, port: { anyOf: [{ type: "integer" }, { type: "string" }] } }, required: ["service", "host", "port"] } },
    },
  }, async ({ service }) => {
    const n = cleanName(service);
    const srv = (await sources.query(n, "SRV")).answers;
    const targets = [...new Set(srv.flatMap((s) => (s.type === "SRV" ? [s.data.target.toLowerCase()] : [])))];
    const first = async (type: "A" | "AAAA") => new Map((await Promise.all(targets.map(async (t) => [t, firstAddress((await sources.query(t, type)).answers, type)] as const))).filter((e): e is readonly [string, string] => e[1] !== undefined));
    if (!isMesosName(n)) return dcosServices(srv, await first("A"));
    const [a, aaaa] = await Promise.all([first("A"), first("AAAA")]);
    return mesosDnsServices(service, srv, a, aaaa);
  });

  route("/v1/enumerate", { response: { 200: { type: "object", additionalProperties: true } } }, async () => mesosDnsEnumerate(await mesosRows(sources, config), mesosDomain()));

  route("/v1/axfr", { response: { 200: { type: "object", additionalProperties: true } } }, async () =>
    mesosDnsAxfr(await mesosRows(sources, config), mesosDomain(), Math.max(1, Math.round(config.dns.mesos.refreshMs / 1000)), config.dns.mesos.ttl),
  );

  // Streamed a page at a time (records.ts): the next page is asked for when the response has taken the last (dcos-net streams it too).
  route("/v1/records", { response: { 200: {} } }, async () => recordsBody(sources.recordsPage), { contentType: "application/json" });

  const metricsRoute = async (registry: string) => {
    const prefixes = METRIC_REGISTRIES[registry];
    if (!prefixes) throw Object.assign(new Error(`Unknown Registry ${registry}; registries: ${Object.keys(METRIC_REGISTRIES).join(", ")}`), { statusCode: 404 });
    const { text } = await sources.metrics();
    return filterMetrics(text, prefixes);
  };
  const registryParam = json({ registry: { type: "string", minLength: 1, maxLength: 64, pattern: "^[a-z_]+$" } }, ["registry"]);
  route("/v1/metrics", { response: { 200: { type: "string" } } }, async () => metricsRoute("default"), { contentType: "text/plain; version=0.0.4; charset=utf-8" });
  route<{ registry: string }>("/v1/metrics/:registry", { params: registryParam, response: { 200: { type: "string" } } }, async ({ registry }) => metricsRoute(registry), { contentType: "text/plain; version=0.0.4; charset=utf-8" });
  return app;
}

function firstAddress(answers: readonly Answer[], type: "A" | "AAAA"): string | undefined {
  const a = answers.find((x) => x.type === type);
  return a && (a.type === "A" || a.type === "AAAA") ? a.data : undefined;
}

const mesosDomain = (): string => "mesos";

/** Mesos-DNS's records: the `mesos` zone's A, AAAA and SRV rows and its SOA (for the serial). */
async function mesosRows(sources: ApiSources, config: Config): Promise<readonly ZoneRowLike[]> {
  if (config.dns.mesos.mode === "off") return [];
  return zoneRows(sources.recordsPage, mesosDomain(), ["A", "AAAA", "SRV", "SOA"]);
}

/**
 * Mesos-DNS's `/v1/config` (records.Config, Go field names) from this node's config, plus the whole
 * dcnet config under `Dcnet`. Mesos-DNS printed its Mesos credentials here; every value of a key that
 * names a secret (token, key, password, credentials) is replaced by "<redacted>".
 */
export function mesosDnsConfig(config: Config): Json {
  const dns = config.dns;
  const listen = dns.listen[0] ?? "";
  const at = listen.lastIndexOf(":");
  const api = config.api.listen;
  const apiAt = api.lastIndexOf(":");
  return redact({
    RefreshSeconds: Math.max(1, Math.round(dns.mesos.refreshMs / 1000)),
    Masters: config.mesos.masters,
    TTL: dns.mesos.ttl,
    SRVRecordDefaultWeight: 1,
    Port: at > 0 ? Number(listen.slice(at + 1)) : 53,
    Domain: mesosDomain(),
    Resolvers: dns.upstreams,
    Timeout: Math.round(dns.upstreamTimeoutMs / 1000),
    Listener: at > 0 ? listen.slice(0, at).replace(/^\[|\]$/g, "") : "",
    HTTPListener: apiAt > 0 ? api.slice(0, apiAt).replace(/^\[|\]$/g, "") : "",
    HttpPort: apiAt > 0 ? Number(api.slice(apiAt + 1)) : 0,
    DnsOn: dns.enabled,
    HttpOn: api !== "",
    ExternalOn: dns.upstreams.length > 0,
    RecurseOn: true,
    EnumerationOn: true,
    SOAMname: "ns1.mesos.",
    SOARname: "root.ns1.mesos.",
    MesosAuthentication: config.mesos.token !== undefined ? "token" : "",
    Dcnet: config as unknown as Json,
  });
}
