// A Mesos master stand-in on 127.0.0.1:<ephemeral> speaking the real Operator API wire format:
// `POST /api/v1 {"type":"SUBSCRIBE"}` → 200 chunked RecordIO stream (the script, then HEARTBEATs),
// or 307 with a Location when it is told it is not the leader; `{"type":"GET_STATE"}` → the state
// folded from the script. Controls let a test inject events, raw bytes, drops and leadership changes.
import { createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeRecord } from "../../actors/catalogue/index.js";

export interface MesosMasterOptions {
  /** JSON texts (one message each, e.g. the lines of operator-api.json) sent to every new subscriber. */
  readonly script?: readonly string[];
  /** HEARTBEAT period after the script, in ms; 0 (default) sends none. */
  readonly heartbeatMs?: number;
  /** Split every write into pieces of this many bytes (exercises the client's reassembly). */
  readonly writeChunkBytes?: number;
  /** Starts as leader unless false. */
  readonly leader?: boolean;
  /** When set, requests without `Authorization: token=<token>` get 401. */
  readonly token?: string;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** GET_AGENT answer (the `get_agent` object), as a Mesos agent gives it; unset: GET_AGENT is a 400. */
  readonly agent?: unknown;
  /** GET_STATE answer (the `get_state` object); default: folded from the script. */
  readonly state?: unknown;
  /** `GET /master/state` (v0, what Mesos-DNS reads), e.g. a Mesos-DNS fixture; unset: 404. */
  readonly masterState?: unknown;
}

export interface SeenRequest {
  readonly type: string;
  readonly headers: IncomingMessage["headers"];
  readonly status: number;
}

export interface MesosMaster {
  /** `http://127.0.0.1:<port>` (the client appends /api/v1). */
  readonly url: string;
  readonly requests: readonly SeenRequest[];
  /** Number of SUBSCRIBE streams open right now. */
  streams(): number;
  /** Resolves once at least `n` streams are open (rejects after `timeoutMs`). */
  waitForStreams(n: number, timeoutMs?: number): Promise<void>;
  /** Non-leader: answer 307 with `Location: <location>` (default `http://127.0.0.9:5050/api/v1`). */
  setLeader(leader: boolean, location?: string): void;
  /** End every open stream: cleanly (`res.end()`, the default) or by destroying the socket. */
  dropStreams(how?: "end" | "reset"): void;
  /** Send one framed event to every open stream. */
  emit(event: unknown): void;
  /** Replace what `GET /master/state` answers. */
  setMasterState(state: unknown): void;
  /** Send raw bytes (truncated frames, garbage) to every open stream. */
  emitRaw(bytes: Uint8Array | string): void;
  close(): Promise<void>;
}

interface Stream {
  readonly res: ServerResponse;
  heartbeat?: ReturnType<typeof setInterval>;
}

type Json = Record<string, unknown>;
const asObj = (v: unknown): Json => (v !== null && typeof v === "object" ? (v as Json) : {});
const idOf = (v: unknown): unknown => asObj(v).value;
const TERMINAL = new Set(["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR"]);

/** Fold a SUBSCRIBE script into the `get_state` a GET_STATE would answer (upstream test harness style). */
export function foldState(script: readonly string[]): Json {
  const events = script.map((l) => asObj(JSON.parse(l)));
  const base = asObj(asObj(events.find((e) => e.type === "SUBSCRIBED")?.subscribed).get_state);
  const tasks = [...((asObj(base.get_tasks).tasks as Json[] | undefined) ?? [])];
  const completed = [...((asObj(base.get_tasks).completed_tasks as Json[] | undefined) ?? [])];
  let frameworks = [...((asObj(base.get_frameworks).frameworks as Json[] | undefined) ?? [])];
  let agents = [...((asObj(base.get_agents).agents as Json[] | undefined) ?? [])];
  const fwId = (f: Json): unknown => idOf(asObj(f.framework_info).id);
  const agentId = (a: Json): unknown => idOf(asObj(a.agent_info).id);
  for (const e of events) {
    const body = asObj(e[String(e.type).toLowerCase()]);
    if (e.type === "TASK_ADDED") tasks.push(asObj(body.task));
    else if (e.type === "TASK_UPDATED") {
      const status = asObj(body.status);
      const i = tasks.findIndex((t) => idOf(t.task_id) === idOf(status.task_id) && idOf(t.framework_id) === idOf(body.framework_id));
      const task = tasks[i];
      if (task === undefined) continue;
      const updated = { ...task, state: body.state ?? status.state, statuses: [...((task.statuses as unknown[] | undefined) ?? []), status] };
      if (TERMINAL.has(String(updated.state))) {
        tasks.splice(i, 1);
        completed.push(updated);
      } else tasks[i] = updated;
    } else if (e.type === "FRAMEWORK_ADDED" || e.type === "FRAMEWORK_UPDATED") {
      const f = asObj(body.framework);
      frameworks = [...frameworks.filter((x) => fwId(x) !== fwId(f)), f];
    } else if (e.type === "FRAMEWORK_REMOVED") {
      const id = idOf(asObj(body.framework_info).id);
      frameworks = frameworks.filter((x) => fwId(x) !== id);
    } else if (e.type === "AGENT_ADDED") {
      const a = asObj(body.agent);
      agents = [...agents.filter((x) => agentId(x) !== agentId(a)), a];
    } else if (e.type === "AGENT_REMOVED") agents = agents.filter((x) => agentId(x) !== idOf(body.agent_id));
  }
  return { ...base, get_tasks: { ...asObj(base.get_tasks), tasks, completed_tasks: completed }, get_frameworks: { ...asObj(base.get_frameworks), frameworks }, get_agents: { ...asObj(base.get_agents), agents } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    total += part.length;
    if (total > 1024 * 1024) throw new Error("request body too large");
    parts.push(part);
  }
  return Buffer.concat(parts).toString("utf8");
}

export async function startMesosMaster(options: MesosMasterOptions = {}): Promise<MesosMaster> {
  const script = options.script ?? [];
  const state = options.state ?? foldState(script);
  const open = new Set<Stream>();
  const requests: SeenRequest[] = [];
  let leader = options.leader ?? true;
  let masterState = options.masterState;
  let location = "http://127.0.0.9:5050/api/v1";
  const waiters = new Set<() => void>();

  const write = (s: Stream, bytes: Uint8Array): void => {
    const step = options.writeChunkBytes ?? bytes.length;
    for (let at = 0; at < bytes.length; at += Math.max(1, step)) s.res.write(bytes.subarray(at, at + Math.max(1, step)));
  };
  const finish = (s: Stream): void => {
    clearInterval(s.heartbeat);
    open.delete(s);
  };

  const startStream = (res: ServerResponse): void => {
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked", "Cache-Control": "no-cache" });
    res.flushHeaders();
    const s: Stream = { res };
    open.add(s);
    res.on("close", () => finish(s));
    for (const line of script) write(s, encodeRecord(line));
    if ((options.heartbeatMs ?? 0) > 0) s.heartbeat = setInterval(() => write(s, encodeRecord('{"type":"HEARTBEAT"}')), options.heartbeatMs);
    for (const w of waiters) w();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let type = "?";
    const answer = (status: number, headers: Record<string, string>, body: string): void => {
      requests.push({ type, headers: req.headers, status });
      res.writeHead(status, headers).end(body);
    };
    if (req.method === "GET" && req.url === "/master/state" && masterState !== undefined) {
      type = "GET /master/state";
      if (options.token !== undefined && req.headers.authorization !== `token=${options.token}`) return answer(401, {}, "unauthorized");
      return answer(200, { "Content-Type": "application/json" }, JSON.stringify(masterState));
    }
    if (req.method !== "POST" || req.url !== "/api/v1") return answer(404, {}, "not found");
    try {
      type = String(asObj(JSON.parse(await readBody(req))).type);
    } catch {
      return answer(400, {}, "Failed to parse body into JSON");
    }
    if (options.token !== undefined && req.headers.authorization !== `token=${options.token}`) return answer(401, { "WWW-Authenticate": "acsjwt" }, "unauthorized");
    if (!leader) return answer(307, { Location: location }, "");
    if (type === "GET_STATE") return answer(200, { "Content-Type": "application/json" }, JSON.stringify({ type: "GET_STATE", get_state: state }));
    if (type === "GET_AGENT" && options.agent !== undefined) return answer(200, { "Content-Type": "application/json" }, JSON.stringify({ type: "GET_AGENT", get_agent: options.agent }));
    if (type !== "SUBSCRIBE") return answer(400, {}, `unsupported call ${type}`);
    requests.push({ type, headers: req.headers, status: 200 });
    startStream(res);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => res.destroy());
  };
  const server: Server = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest) : createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    streams: () => open.size,
    waitForStreams: (n, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (open.size < n) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`mesos-master: ${open.size} of ${n} streams open after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    setLeader(isLeader, loc) {
      leader = isLeader;
      if (loc !== undefined) location = loc;
    },
    dropStreams(how = "end") {
      for (const s of [...open]) {
        finish(s);
        if (how === "end") s.res.end();
        else s.res.socket?.destroy();
      }
    },
    emit(event) {
      for (const s of open) write(s, encodeRecord(JSON.stringify(event)));
    },
    setMasterState(next) {
      masterState = next;
    },
    emitRaw(bytes) {
      const buf = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
      for (const s of open) write(s, buf);
    },
    async close() {
      for (const s of [...open]) {
        finish(s);
        s.res.socket?.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
