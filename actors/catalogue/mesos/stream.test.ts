// The stream client against the master stand-in (integration/support/mesos-master.ts), loopback only.
import { describe, it, expect, afterEach } from "@jest/globals";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { subscribe, mesosCall, operatorUrl, heartbeatSeconds } from "./stream.js";
import type { MesosEvent, StreamProblem, SubscribeEnd } from "./stream.js";
import { MesosHttpError, MesosTimeoutError, MesosUnreachableError, NotLeaderError, RecordIoError, StreamStalledError } from "./errors.js";
import { encodeRecord } from "./recordio.js";
import { startMesosMaster, foldState } from "../../../integration/support/mesos-master.js";
import type { MesosMaster, MesosMasterOptions } from "../../../integration/support/mesos-master.js";

const fixture = (name: string): string[] =>
  readFileSync(new URL(`../../../../shared/fixtures/dcos-net/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l !== "");
const OPERATOR_API = fixture("operator-api.json");
const HELLO_WORLD = fixture("hello-world.json");
const subscribed = (hbSeconds: number): string => JSON.stringify({ type: "SUBSCRIBED", subscribed: { get_state: {}, heartbeat_interval_seconds: hbSeconds } });

let masters: MesosMaster[] = [];
let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(masters.map((m) => m.close()));
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  masters = [];
  servers = [];
});

async function master(opts: MesosMasterOptions = {}): Promise<MesosMaster> {
  const m = await startMesosMaster(opts);
  masters.push(m);
  return m;
}

/** Start a subscription collecting events; `until` aborts it once the predicate holds. */
function collect(url: string, opts: { token?: string; timeoutMs?: number; until?: (events: MesosEvent[]) => boolean } = {}) {
  const events: MesosEvent[] = [];
  const problems: StreamProblem[] = [];
  const ctl = new AbortController();
  const done: Promise<SubscribeEnd> = subscribe(url, {
    ...(opts.token === undefined ? {} : { token: opts.token }),
    signal: ctl.signal,
    timeoutMs: opts.timeoutMs ?? 2000,
    onRecord: (e) => {
      events.push(e);
      if (opts.until?.(events)) ctl.abort();
    },
    onProblem: (p) => problems.push(p),
  });
  return { events, problems, ctl, done };
}

describe("pure helpers", () => {
  it("operatorUrl appends /api/v1 once", () => {
    expect(operatorUrl("http://10.0.0.1:5050")).toBe("http://10.0.0.1:5050/api/v1");
    expect(operatorUrl("http://10.0.0.1:5050/")).toBe("http://10.0.0.1:5050/api/v1");
    expect(operatorUrl("https://m:5050/api/v1")).toBe("https://m:5050/api/v1");
  });
  it("heartbeatSeconds reads SUBSCRIBED only", () => {
    expect(heartbeatSeconds(JSON.parse(OPERATOR_API[0] as string) as MesosEvent)).toBe(15);
    expect(heartbeatSeconds({ type: "HEARTBEAT" })).toBeUndefined();
    expect(heartbeatSeconds({ type: "SUBSCRIBED", subscribed: { heartbeat_interval_seconds: -1 } })).toBeUndefined();
  });
});

describe("subscribe against the master stand-in", () => {
  it("delivers the operator-api fixture end to end, in order, with the right request", async () => {
    const m = await master({ script: OPERATOR_API, writeChunkBytes: 7, token: "s3cret" });
    const c = collect(m.url, { token: "s3cret", until: (ev) => ev.length === OPERATOR_API.length });
    await expect(c.done).resolves.toMatchObject({ reason: "aborted", records: 38 });
    expect(c.events).toEqual(OPERATOR_API.map((l) => JSON.parse(l)));
    expect(c.problems).toEqual([]);
    const req = m.requests[0];
    expect(req).toMatchObject({ type: "SUBSCRIBE", status: 200 });
    expect(req?.headers).toMatchObject({ "content-type": "application/json", accept: "application/json", authorization: "token=s3cret" });
  });

  it("delivers heartbeats after the script, then resolves eof when the master ends the stream", async () => {
    const m = await master({ script: HELLO_WORLD, heartbeatMs: 10 });
    const c = collect(m.url);
    await m.waitForStreams(1);
    for (let i = 0; i < 200 && c.events.filter((e) => e.type === "HEARTBEAT").length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    m.dropStreams();
    const end = await c.done;
    expect(end.reason).toBe("eof");
    expect(c.events.slice(0, HELLO_WORLD.length)).toEqual(HELLO_WORLD.map((l) => JSON.parse(l)));
    expect(c.events.filter((e) => e.type === "HEARTBEAT").length).toBeGreaterThanOrEqual(2);
  });

  it("rejects with NotLeaderError carrying the Location from a non-leader (307)", async () => {
    const m = await master({ script: OPERATOR_API, leader: false });
    const err = await collect(m.url).done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect(err).toMatchObject({ name: "NotLeaderError", code: "DCNET_E_MESOS_NOT_LEADER", location: "http://127.0.0.9:5050/api/v1" });
    m.setLeader(false, "//10.0.0.2:5050/api/v1"); // what real Mesos sends: scheme-relative
    await expect(collect(m.url).done).rejects.toMatchObject({ location: "//10.0.0.2:5050/api/v1", leaderUrl: "http://10.0.0.2:5050/api/v1" });
    m.setLeader(true);
    const c = collect(m.url, { until: (ev) => ev.length === 1 });
    await expect(c.done).resolves.toMatchObject({ reason: "aborted" });
  });

  it("rejects with MesosHttpError on another status, with a body excerpt", async () => {
    const m = await master({ token: "right" });
    await expect(collect(m.url, { token: "wrong" }).done).rejects.toMatchObject({ name: "MesosHttpError", code: "DCNET_E_MESOS_HTTP", status: 401, excerpt: "unauthorized" });
  });

  it("aborts with StreamStalledError after 3 × heartbeat_interval_seconds without a record", async () => {
    const m = await master({ script: [subscribed(0.05)] });
    const started = Date.now();
    const err = await collect(m.url).done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamStalledError);
    expect(err).toMatchObject({ code: "DCNET_E_MESOS_STALLED", silentMs: 150 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("stays up while heartbeats arrive faster than the stall limit", async () => {
    const m = await master({ script: [subscribed(0.05)], heartbeatMs: 15 });
    const c = collect(m.url, { until: (ev) => ev.length >= 25 });
    await expect(c.done).resolves.toMatchObject({ reason: "aborted" });
  });

  it("rejects with RecordIoError on a truncated frame followed by the end of the stream", async () => {
    const m = await master({ script: [subscribed(15)] });
    const c = collect(m.url);
    await m.waitForStreams(1);
    m.emitRaw('100\n{"type":"HEARTB');
    m.dropStreams();
    await expect(c.done).rejects.toMatchObject({ name: "RecordIoError", code: "DCNET_E_RECORDIO", problem: "truncated" });
    expect(c.events).toHaveLength(1);
  });

  it("rejects with RecordIoError at once on a garbage length prefix", async () => {
    const m = await master({ script: [subscribed(15)] });
    const c = collect(m.url);
    await m.waitForStreams(1);
    m.emitRaw("<html>oops</html>");
    const err = await c.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordIoError);
    expect((err as RecordIoError).offset).toBe(encodeRecord(subscribed(15)).length);
  });

  it("reports a record that is not JSON through onProblem and keeps going", async () => {
    const m = await master({ script: [subscribed(15)] });
    const c = collect(m.url, { until: (ev) => ev.length === 2 });
    await m.waitForStreams(1);
    m.emitRaw(encodeRecord("{not json"));
    m.emitRaw(encodeRecord("[1]"));
    m.emit({ type: "HEARTBEAT" });
    await expect(c.done).resolves.toMatchObject({ reason: "aborted", records: 4 });
    expect(c.problems.map((p) => [p.kind, p.index])).toEqual([
      ["bad-json", 1],
      ["not-an-object", 2],
    ]);
    expect(c.events.map((e) => e.type)).toEqual(["SUBSCRIBED", "HEARTBEAT"]);
  });

  it("rejects with MesosUnreachableError when the connection is reset or refused", async () => {
    const m = await master({ script: [subscribed(15)] });
    const c = collect(m.url);
    await m.waitForStreams(1);
    m.dropStreams("reset");
    await expect(c.done).rejects.toMatchObject({ name: "MesosUnreachableError", code: "DCNET_E_MESOS_UNREACHABLE" });
    await m.close();
    await expect(collect(m.url).done).rejects.toBeInstanceOf(MesosUnreachableError);
  });

  it("rejects with MesosTimeoutError when no response headers arrive", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((sock) => {
      sockets.add(sock); // accepts, never answers
    });
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const err = await collect(url, { timeoutMs: 100 }).done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MesosTimeoutError);
    expect(err).toMatchObject({ code: "DCNET_E_MESOS_TIMEOUT", timeoutMs: 100 });
    const callErr = await mesosCall(url, { type: "GET_STATE" }, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(callErr).toBeInstanceOf(MesosTimeoutError);
    for (const sock of sockets) sock.destroy();
  });

  it("resolves aborted at once for an already-aborted signal", async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(subscribe("http://127.0.0.1:9", { signal: ctl.signal, timeoutMs: 100, onRecord: () => undefined })).resolves.toMatchObject({ reason: "aborted" });
  });
});

describe("mesosCall against the master stand-in", () => {
  it("GET_STATE answers the state folded from the script", async () => {
    const m = await master({ script: OPERATOR_API, token: "t" });
    const res = (await mesosCall(m.url, { type: "GET_STATE" }, { token: "t", timeoutMs: 2000 })) as { type: string; get_state: unknown };
    expect(res.type).toBe("GET_STATE");
    expect(res.get_state).toEqual(foldState(OPERATOR_API));
    const tasks = (res.get_state as { get_tasks: { tasks: { state: string }[] } }).get_tasks.tasks;
    expect(tasks).toHaveLength(12);
    expect(tasks.every((t) => t.state === "TASK_RUNNING")).toBe(true);
    expect(m.requests.at(-1)?.headers.authorization).toBe("token=t");
  });

  it("folds hello-world to no live tasks and no hello-world framework", () => {
    const state = foldState(HELLO_WORLD) as { get_tasks: { tasks: unknown[] }; get_frameworks: { frameworks: { framework_info: { name: string } }[] } };
    expect(state.get_tasks.tasks).toEqual([]);
    expect(state.get_frameworks.frameworks.map((f) => f.framework_info.name)).not.toContain("hello-world");
  });

  it("maps 307 and other statuses to typed errors", async () => {
    const m = await master({ leader: false });
    await expect(mesosCall(m.url, { type: "GET_STATE" }, { timeoutMs: 2000 })).rejects.toBeInstanceOf(NotLeaderError);
    m.setLeader(true);
    const err = await mesosCall(m.url, { type: "GET_AGENT" }, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MesosHttpError);
    expect(err).toMatchObject({ status: 400, excerpt: "unsupported call GET_AGENT" });
  });
});
