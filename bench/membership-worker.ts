// Child process of bench/membership.ts: hosts a slice of the membership instances on ONE shared NATS
// connection (testkit/gossip/members.ts), so a run of 1,000 spreads over several processes (cores)
// instead of saturating one event loop. Event times are absolute (timeOrigin + now, ms), comparable
// between the processes of one machine.
// IPC, parent → child: {type:"start"} | {type:"alive"} | {type:"counters"} | {type:"kill", id} |
// {type:"dead", node, since} | {type:"falseDeaths", since, except} | {type:"stop"}; each is answered by
// one message carrying the same `type` and `seq`.
import { startMember, startMemberHost, swimMessages, type MemberHost, type MemberInstance } from "../testkit/gossip/members.js";
import type { Config } from "../config/index.js";

export type WorkerCommand =
  /** `everyMs`: the pause between two starts in this process (0: one right after the other). */
  | { readonly type: "start"; readonly url: string; readonly cluster: string; readonly ids: readonly string[]; readonly gossip: Partial<Config["gossip"]>; readonly everyMs: number; readonly ownConnection?: boolean }
  /** The fewest alive peers any of this process's instances sees. */
  | { readonly type: "alive" }
  /** Messages sent + received by the instances, and this process's CPU time (µs). */
  | { readonly type: "counters" }
  | { readonly type: "kill"; readonly id: string }
  /** When this process's live instances first saw `node` dead after `since`: one time per instance that did. */
  | { readonly type: "dead"; readonly node: string; readonly since: number }
  /** Dead and suspect events after `since` about members not in `except`, seen by live instances. */
  | { readonly type: "falseDeaths"; readonly since: number; readonly except: readonly string[] }
  | { readonly type: "stop" };

export type WorkerReply =
  | { readonly type: "start"; readonly started: number }
  | { readonly type: "alive"; readonly min: number }
  | { readonly type: "counters"; readonly messages: number; readonly cpuUs: number }
  | { readonly type: "kill"; readonly at: number }
  | { readonly type: "dead"; readonly times: number[]; readonly watching: number; readonly firstSuspect: number | undefined }
  | { readonly type: "falseDeaths"; readonly dead: Array<{ readonly by: string; readonly node: string; readonly at: number }>; readonly suspicions: number }
  | { readonly type: "stop" }
  | { readonly type: "error"; readonly message: string };

const now = (): number => performance.timeOrigin + performance.now();

interface Hosted {
  readonly m: MemberInstance;
  /** Peers alive in this instance's view, kept from its events (so asking costs nothing). */
  readonly alive: { n: number };
  /** Absolute time of each suspect and dead event (MemberInstance's are this process's performance.now()); joins and alives are only counted. */
  readonly events: Array<{ readonly at: number; readonly type: string; readonly node: string }>;
}

let host: MemberHost | undefined;
/** Events by type since the last progress line (BENCH_PROGRESS). */
let progress: Record<string, number> = {};
let detector: string | undefined;
const hosted = new Map<string, Hosted>();
const killed = new Set<string>();

async function start(c: Extract<WorkerCommand, { type: "start" }>): Promise<WorkerReply> {
  // ownConnection: each instance connects as a node does (named dcnet.<cluster>.<id>), so killing
  // this process closes its connections and the server's disconnect advisories name them.
  if (c.ownConnection !== true) host = await startMemberHost(c.url, `bench-members-${process.pid}`);
  detector = c.gossip.detector;
  for (const id of c.ids) {
    if (c.everyMs > 0 && hosted.size > 0) await new Promise((r) => setTimeout(r, c.everyMs));
    const alive = new Map<string, boolean>();
    const record: Hosted["events"] = [];
    const counted = { n: 0 };
    const m = await startMember(host ?? c.url, c.cluster, id, c.gossip, Date.now(), (e) => {
      const up = e.ev.type === "join" || e.ev.type === "alive" || e.ev.type === "rejoin";
      if (up !== (alive.get(e.ev.node) === true)) counted.n += up ? 1 : -1;
      alive.set(e.ev.node, up);
      if (e.ev.type === "suspect" || e.ev.type === "dead") record.push({ at: performance.timeOrigin + e.at, type: e.ev.type, node: e.ev.node });
      progress[e.ev.type] = (progress[e.ev.type] ?? 0) + 1;
    });
    const h: Hosted = { m, alive: counted, events: record };
    hosted.set(id, h);
  }
  return { type: "start", started: hosted.size };
}

// BENCH_PROGRESS=1: every 5 s, this process's event counts by type, the alive peers its instances
// see (min/mean), and its event-loop delay: where a run that does not converge is stuck.
if (process.env.BENCH_PROGRESS) {
  const { monitorEventLoopDelay } = await import("node:perf_hooks");
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  setInterval(() => {
    const counts = progress;
    progress = {};
    const alive = live().map((h) => h.alive.n);
    console.log(`[${process.pid}] ${hosted.size} instances; events/5s ${JSON.stringify(counts)}; alive seen min ${Math.min(...alive)} mean ${(alive.reduce((a, b) => a + b, 0) / Math.max(1, alive.length)).toFixed(0)}; loop delay p50 ${(delay.percentile(50) / 1e6).toFixed(0)} ms max ${(delay.max / 1e6).toFixed(0)} ms; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
    delay.reset();
  }, 5000).unref();
}

/** The first event of a type about `node` at or after `since`. Events are kept in time order: the
 * walk goes back from the newest, so the bench's polling during kills costs what happened since the
 * kill, not a scan of a storm's thousands of events per instance ten times a second. */
function firstSince(events: Hosted["events"], type: string, node: string, since: number): number | undefined {
  let first: number | undefined;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as Hosted["events"][number];
    if (e.at < since) break;
    if (e.type === type && e.node === node) first = e.at;
  }
  return first;
}

const live = (): Hosted[] => [...hosted.values()].filter((h) => !killed.has(h.m.id));

async function counters(): Promise<WorkerReply> {
  const cpu = process.cpuUsage();
  if (detector === "swim") return { type: "counters", messages: (await Promise.all(live().map((h) => swimMessages(h.m)))).reduce((a, b) => a + b, 0), cpuUs: cpu.user + cpu.system };
  // A shared connection gets one copy of a message per matching subscription: its totals are the instances' sum.
  const s = host?.nc.stats();
  return { type: "counters", messages: (s?.inMsgs ?? 0) + (s?.outMsgs ?? 0), cpuUs: cpu.user + cpu.system };
}

async function handle(c: WorkerCommand): Promise<WorkerReply> {
  switch (c.type) {
    case "start":
      return start(c);
    case "alive":
      return { type: "alive", min: Math.min(...live().map((h) => h.alive.n)) };
    case "counters":
      return counters();
    case "kill": {
      const h = hosted.get(c.id);
      if (h === undefined) throw new Error(`no instance ${c.id} here`);
      killed.add(c.id);
      const at = now();
      await h.m.stop();
      return { type: "kill", at };
    }
    case "dead": {
      const watchers = live();
      const times = watchers.map((h) => firstSince(h.events, "dead", c.node, c.since)).filter((t): t is number => t !== undefined);
      const suspected = watchers.map((h) => firstSince(h.events, "suspect", c.node, c.since)).filter((t): t is number => t !== undefined);
      return { type: "dead", times, watching: watchers.length, firstSuspect: suspected.length > 0 ? Math.min(...suspected) : undefined };
    }
    case "falseDeaths": {
      const except = new Set(c.except);
      const dead: Array<{ by: string; node: string; at: number }> = [];
      let suspicions = 0;
      for (const h of live()) {
        for (const e of h.events) {
          if (e.at < c.since || except.has(e.node)) continue;
          if (e.type === "dead") dead.push({ by: h.m.id, node: e.node, at: e.at });
          if (e.type === "suspect") suspicions += 1;
        }
      }
      return { type: "falseDeaths", dead, suspicions };
    }
    case "stop":
      await Promise.all(live().map((h) => h.m.stop().catch(() => undefined)));
      await host?.close();
      return { type: "stop" };
  }
}

process.on("message", (raw: { seq: number; cmd: WorkerCommand }) => {
  handle(raw.cmd).then(
    (reply) => process.send?.({ seq: raw.seq, reply }),
    (err: unknown) => process.send?.({ seq: raw.seq, reply: { type: "error", message: err instanceof Error ? err.message : String(err) } }),
  );
});
process.send?.({ seq: 0, reply: { type: "stop" } });
// The parent went away (or asked us to go by disconnecting): exit, writing a CPU profile if asked for one.
process.on("disconnect", () => process.exit(0));
