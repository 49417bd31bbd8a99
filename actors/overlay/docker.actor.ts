// /node/overlay/docker: CNM, as DC/OS did it. On a node with Docker, the Docker network `dcos`
// (bridge driver on d-dcos, the second half of this node's subnet, the overlay's MTU) makes
// `docker run --network dcos` containers members of the overlay: d-dcos is a bridge the applier
// already routes, so Docker only has to hand out addresses from that half and plug veths in.
//
// Why it asks the applier rather than watching the store: the network needs the MTU the applier
// settled on (configured or the underlay's − 50), and it must not exist before the applier made
// d-dcos with its gateway address (Docker would make the bridge itself, without the overlay's
// routes). The applier's status has both, and a failed sync says "not yet".
//
// Docker's socket may be absent (no Docker on this node yet, dockerd restarting): retried with
// backoff, one warning per outage; nothing here throws out of a handler, so the node never
// crash-loops on Docker. A network that differs is recreated only while no container uses it:
// deleting it under running containers would cut them off, so that case is logged and counted.
import { request } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ActorRef, Behaviour, ReplyTo } from "../../supervisors/index.js";
import { counter } from "../../observability/metrics.js";
import { formatIp } from "../../config/ip.js";
import { DOCKER_BRIDGE, type NodeOverlay } from "./model.js";
import { OverlayError } from "./errors.js";
import { halves, parsePrefix, type Prefix } from "./render/ip.js";
import type { OverlayApplierMsg, OverlayStatus } from "./applier.actor.js";

/** The Docker socket does not answer (no Docker on this node, dockerd down or restarting). */
export class DockerUnavailableError extends OverlayError {
  override readonly name = "DockerUnavailableError";
  readonly code = "DCNET_E_OVERLAY_DOCKER_UNAVAILABLE";
  constructor(
    readonly socketPath: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Docker at ${socketPath} does not answer: ${detail}`, options);
  }
}

/** The Docker Engine API refused a call (status and the engine's own message). */
export class DockerApiError extends OverlayError {
  override readonly name = "DockerApiError";
  readonly code = "DCNET_E_OVERLAY_DOCKER_API";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    body: string,
  ) {
    super(`Docker API ${method} ${path}: ${status} ${engineMessage(body)}`);
  }
}

// ---------------------------------------------------------------- pure: the network Docker must hold

/** The body of `POST /networks/create` (Docker Engine API 1.41, NetworkCreateRequest). */
export interface DockerNetworkSpec {
  readonly Name: string;
  readonly Driver: "bridge";
  readonly CheckDuplicate: true;
  readonly EnableIPv6: boolean;
  readonly IPAM: { readonly Driver: "default"; readonly Config: ReadonlyArray<{ readonly Subnet: string; readonly Gateway: string }> };
  readonly Options: Readonly<Record<string, string>>;
  readonly Labels: Readonly<Record<string, string>>;
}

export const BRIDGE_NAME_OPTION = "com.docker.network.bridge.name";
export const MTU_OPTION = "com.docker.network.driver.mtu";
/** Marks the networks dcnet made (an operator can tell them from their own). */
export const DCNET_LABEL = "io.dcnet.overlay";

/** The second half of `subnet` and its first address: `9.0.7.0/24` → `9.0.7.128/25`, `9.0.7.129`. */
function dockerHalf(subnet: string): { Subnet: string; Gateway: string } | undefined {
  const p = parsePrefix(subnet);
  const h = p ? halves(p) : undefined;
  if (!h) return undefined;
  const second = h[1] as Prefix;
  return { Subnet: `${formatIp(second.family, second.net)}/${second.bits}`, Gateway: formatIp(second.family, second.net + 1n) };
}

/** What Docker must hold for this node's overlay facts; undefined when a subnet does not parse. */
export function dockerNetworkSpec(name: string, own: NodeOverlay, mtu: number): DockerNetworkSpec | undefined {
  const v4 = dockerHalf(own.subnet);
  const v6 = own.subnet6 ? dockerHalf(own.subnet6) : undefined;
  if (!v4 || (own.subnet6 && !v6)) return undefined;
  return {
    Name: name,
    Driver: "bridge",
    CheckDuplicate: true,
    EnableIPv6: v6 !== undefined,
    IPAM: { Driver: "default", Config: v6 ? [v4, v6] : [v4] },
    Options: { [BRIDGE_NAME_OPTION]: DOCKER_BRIDGE, [MTU_OPTION]: String(mtu) },
    Labels: { [DCNET_LABEL]: name },
  };
}

/** The part of `GET /networks/<name>` that is compared (NetworkResource). */
export interface FoundNetwork {
  readonly Id?: string;
  readonly Driver?: string;
  readonly EnableIPv6?: boolean;
  readonly IPAM?: { readonly Config?: ReadonlyArray<{ readonly Subnet?: string; readonly Gateway?: string }> | null };
  readonly Options?: Readonly<Record<string, string>> | null;
  readonly Containers?: Readonly<Record<string, unknown>> | null;
}

/** Why a found network is not the wanted one, one line per difference; empty when it is. */
export function networkDifferences(found: FoundNetwork, want: DockerNetworkSpec): string[] {
  const out: string[] = [];
  if (found.Driver !== want.Driver) out.push(`driver ${found.Driver ?? "(none)"}, want ${want.Driver}`);
  if (Boolean(found.EnableIPv6) !== want.EnableIPv6) out.push(`IPv6 ${found.EnableIPv6 ? "on" : "off"}, want ${want.EnableIPv6 ? "on" : "off"}`);
  // Docker may print an IPv6 subnet in another form than we sent it: compared canonical.
  const pools = (list: ReadonlyArray<{ Subnet?: string; Gateway?: string }>): string =>
    list
      .map((c) => `${canonical(c.Subnet)} gw ${canonical(c.Gateway)}`)
      .sort()
      .join(", ");
  const have = pools(found.IPAM?.Config ?? []);
  const wanted = pools(want.IPAM.Config);
  if (have !== wanted) out.push(`pools [${have}], want [${wanted}]`);
  for (const [k, v] of Object.entries(want.Options)) {
    const got = found.Options?.[k];
    if (got !== v) out.push(`${k}=${got ?? "(unset)"}, want ${v}`);
  }
  return out;
}

function canonical(addr: string | undefined): string {
  if (!addr) return "(none)";
  const p = parsePrefix(addr, false);
  if (!p) return addr;
  const ip = formatIp(p.family, p.net);
  return addr.includes("/") ? `${ip}/${p.bits}` : ip;
}

// ---------------------------------------------------------------- the Engine API over its socket

export interface EngineAnswer {
  readonly status: number;
  readonly body: string;
}

/** One Engine API call over the unix socket; a socket that does not answer is a DockerUnavailableError. */
export function engineCall(socketPath: string, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<EngineAnswer> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = text === undefined ? {} : { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(text)) };
    const req = request({ socketPath, method, path, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (err) => reject(new DockerUnavailableError(socketPath, err.message, { cause: err })));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to ${method} ${path} within ${timeoutMs} ms`)));
    req.on("error", (err) => reject(err instanceof OverlayError ? err : new DockerUnavailableError(socketPath, err.message, { cause: err })));
    req.end(text);
  });
}

function engineMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof m === "string") return m;
  } catch {
    // not JSON: the raw text below
  }
  return body.trim().slice(0, 300);
}

// ---------------------------------------------------------------- the actor

export type DockerNetState = "waiting-overlay" | "docker-unavailable" | "ready" | "mismatch" | "error";

export interface DockerNetStatus {
  readonly state: DockerNetState;
  readonly socketPath: string;
  /** The network as wanted (once the overlay is known). */
  readonly want?: DockerNetworkSpec;
  /** Docker's id of the network when it is ready or mismatched. */
  readonly networkId?: string;
  /** What differs, when a network in use is not the wanted one. */
  readonly differences?: readonly string[];
  readonly error?: string;
  readonly created: number;
  readonly recreated: number;
}

export type OverlayDockerMsg = { readonly type: "ensure" } | { readonly type: "status"; readonly reply: ReplyTo<DockerNetStatus> };

export interface OverlayDockerDeps {
  /** Docker network name (overlay.name: `dcos`). */
  readonly name: string;
  /** Docker's API socket (overlay.docker). */
  readonly socketPath: string;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly applier: () => ActorRef<OverlayApplierMsg> | undefined;
  /** Check again this often once the network is right (Docker restarted, someone deleted it); default 30 s. */
  readonly periodMs?: number;
  /** Longest wait between retries while Docker or the overlay is away; default 30 s. */
  readonly maxBackoffMs?: number;
}

interface State {
  status: DockerNetStatus;
  /** Docker failures in a row (the backoff). */
  failures: number;
  /** Asks in a row that found the overlay not set up yet. */
  waits: number;
  /** The difference last logged, so a standing mismatch is logged and counted once. */
  mismatchKey: string | undefined;
  timer: NodeJS.Timeout | undefined;
}

export function overlayDockerBehaviour(deps: OverlayDockerDeps): Behaviour<State, OverlayDockerMsg> {
  const log = deps.logger;
  const periodMs = deps.periodMs ?? 30_000;
  const maxBackoffMs = deps.maxBackoffMs ?? 30_000;
  const path = `/networks/${encodeURIComponent(deps.name)}`;
  const m = {
    changes: counter(deps.metrics, "dcnet_overlay_docker_network_changes_total", "Docker network of the overlay created or recreated (it differed and no container used it), by action", ["action"]),
    mismatches: counter(deps.metrics, "dcnet_overlay_docker_mismatches_total", "Docker network of the overlay found different from this node's subnet/bridge/MTU while containers use it (left as is)"),
    errors: counter(deps.metrics, "dcnet_overlay_docker_errors_total", "Docker Engine API calls that failed or did not answer"),
  };

  const call = (method: string, p: string, body?: unknown): Promise<EngineAnswer> => engineCall(deps.socketPath, method, p, body);

  const create = async (want: DockerNetworkSpec): Promise<string | undefined> => {
    const r = await call("POST", "/networks/create", want);
    if (r.status !== 201 && r.status !== 200) throw new DockerApiError("POST", "/networks/create", r.status, r.body);
    const id = (JSON.parse(r.body) as { Id?: unknown }).Id;
    return typeof id === "string" ? id : undefined;
  };

  /** One pass; returns the next status. Throws only OverlayErrors (and JSON errors) for the caller to count. */
  const ensure = async (s: State, want: DockerNetworkSpec): Promise<DockerNetStatus> => {
    const base = { socketPath: deps.socketPath, want, created: s.status.created, recreated: s.status.recreated };
    const got = await call("GET", path);
    if (got.status === 404) {
      const networkId = await create(want);
      m.changes.inc({ action: "created" });
      log.info({ network: deps.name, subnets: want.IPAM.Config.map((c) => c.Subnet), bridge: DOCKER_BRIDGE }, "overlay: Docker network created");
      return { ...base, state: "ready", created: base.created + 1, ...(networkId ? { networkId } : {}) };
    }
    if (got.status !== 200) throw new DockerApiError("GET", path, got.status, got.body);
    const found = JSON.parse(got.body) as FoundNetwork;
    const differences = networkDifferences(found, want);
    if (differences.length === 0) return { ...base, state: "ready", ...(found.Id ? { networkId: found.Id } : {}) };
    const inUse = Object.keys(found.Containers ?? {}).length;
    if (inUse > 0) {
      const key = differences.join("; ");
      if (s.mismatchKey !== key) {
        s.mismatchKey = key;
        m.mismatches.inc();
        log.warn({ network: deps.name, containers: inUse, differences }, "overlay: Docker network differs from this node's overlay but containers use it; left as is until they are gone");
      }
      return { ...base, state: "mismatch", differences, ...(found.Id ? { networkId: found.Id } : {}) };
    }
    const del = await call("DELETE", path);
    if (del.status !== 204 && del.status !== 200 && del.status !== 404) throw new DockerApiError("DELETE", path, del.status, del.body);
    const networkId = await create(want);
    m.changes.inc({ action: "recreated" });
    log.info({ network: deps.name, differences }, "overlay: Docker network differed and was unused; recreated");
    return { ...base, state: "ready", recreated: base.recreated + 1, ...(networkId ? { networkId } : {}) };
  };

  const later = (s: State, self: ActorRef<OverlayDockerMsg>, ms: number): void => {
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      self.tell({ type: "ensure" });
    }, ms);
    s.timer.unref();
  };
  const backoff = (s: State): number => Math.min(maxBackoffMs, 250 * 2 ** Math.min(s.failures, 16));

  return {
    handlerDeadlineMs: 60_000,
    init(ctx) {
      ctx.self.tell({ type: "ensure" });
      return { status: { state: "waiting-overlay", socketPath: deps.socketPath, created: 0, recreated: 0 }, failures: 0, waits: 0, mismatchKey: undefined, timer: undefined };
    },
    async handle(s, msg, ctx) {
      if (msg.type === "status") {
        msg.reply(s.status);
        return s;
      }
      let overlay: OverlayStatus | undefined;
      try {
        overlay = await deps.applier()?.ask<OverlayStatus>((reply) => ({ type: "status", reply }), 5_000);
      } catch {
        overlay = undefined;
      }
      const want = overlay?.own && overlay.mtu && overlay.lastSync?.ok ? dockerNetworkSpec(deps.name, overlay.own, overlay.mtu) : undefined;
      if (!want) {
        // The applier has not set d-dcos up yet (or its facts do not parse: it says so itself).
        s.status = { ...s.status, state: "waiting-overlay" };
        s.waits++;
        later(s, ctx.self, Math.min(maxBackoffMs, 5_000, 100 * 2 ** Math.min(s.waits, 16)));
        return s;
      }
      s.waits = 0;
      try {
        const wasDown = s.status.state === "docker-unavailable" || s.status.state === "error";
        s.status = await ensure(s, want);
        if (s.status.state === "ready") s.mismatchKey = undefined;
        if (wasDown) log.info({ socket: deps.socketPath }, "overlay: Docker answers again");
        s.failures = 0;
        later(s, ctx.self, periodMs);
      } catch (err) {
        m.errors.inc();
        const unavailable = err instanceof DockerUnavailableError;
        const state: DockerNetState = unavailable ? "docker-unavailable" : "error";
        if (s.status.state !== state) log.warn({ socket: deps.socketPath, err: errText(err) }, unavailable ? "overlay: Docker does not answer; the dcos Docker network waits for it (retrying with backoff)" : "overlay: Docker refused the dcos network; retrying with backoff");
        s.status = { socketPath: deps.socketPath, want, created: s.status.created, recreated: s.status.recreated, state, error: errText(err) };
        s.failures++;
        later(s, ctx.self, backoff(s));
      }
      return s;
    },
    terminate(s) {
      if (s.timer) clearTimeout(s.timer);
      // The network stays: containers on it keep their addresses while the node restarts.
    },
  };
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
