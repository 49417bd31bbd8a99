// The failure detector as tables: a script of heartbeats, ticks and connection changes at local
// times (ms), the events it must produce (with the time they appear) and the states it ends in.
import { describe, expect, it } from "@jest/globals";
import { FailureDetector, type DetectorConfig, type Instant } from "./detector.js";
import type { MemberState } from "./types.js";

const CFG: DetectorConfig = { suspectAfterMs: 800, deadAfterMs: 1600, tickMs: 100, stallThresholdMs: 50, forgetDeadAfterMs: 3_600_000 };
const WALL0 = 1_700_000_000_000;
const at = (t: number): Instant => ({ mono: t, wall: WALL0 + t });

type Step =
  | { readonly t: number; readonly op: "hb"; readonly node: string; readonly inc: number; readonly intervalMs?: number }
  | { readonly t: number; readonly op: "tick" }
  | { readonly t: number; readonly op: "conn"; readonly up: boolean };

const hb = (t: number, node: string, inc = 1, intervalMs = 200): Step => ({ t, op: "hb", node, inc, intervalMs });
const conn = (t: number, up: boolean): Step => ({ t, op: "conn", up });
/** Ticks every `every` ms in (from, to]. */
function ticks(from: number, to: number, every = 100): Step[] {
  const out: Step[] = [];
  for (let t = from + every; t <= to; t += every) out.push({ t, op: "tick" });
  return out;
}
/** Steps sorted by time; at equal times, the order given (heartbeats listed before ticks arrive first). */
const script = (...parts: (Step | Step[])[]): Step[] =>
  parts
    .flat()
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.t - b.s.t || a.i - b.i)
    .map((x) => x.s);

function run(steps: readonly Step[], cfg: DetectorConfig = CFG): { events: string[]; d: FailureDetector; stalls: number[] } {
  const d = new FailureDetector(cfg);
  const events: string[] = [];
  const stalls: number[] = [];
  for (const s of steps) {
    if (s.op === "hb") {
      const out = d.heard({ node: s.node, incarnation: s.inc, intervalMs: s.intervalMs ?? 200 }, at(s.t));
      if (out.kind === "event") events.push(fmt(s.t, out.event));
    } else if (s.op === "tick") {
      const out = d.tick(at(s.t));
      if (out.stallMs > 0) stalls.push(out.stallMs);
      for (const e of out.events) events.push(fmt(s.t, e));
      for (const n of out.forgotten) events.push(`${s.t} forgotten ${n}`);
    } else {
      for (const e of d.setConnected(s.up, at(s.t))) events.push(fmt(s.t, e));
    }
  }
  return { events, d, stalls };
}

function fmt(t: number, e: { type: string; node: string; incarnation: number; previous?: number }): string {
  return `${t} ${e.type} ${e.node}@${e.incarnation}${e.previous === undefined ? "" : ` (was ${e.previous})`}`;
}

interface Case {
  readonly name: string;
  readonly steps: Step[];
  readonly cfg?: Partial<DetectorConfig>;
  readonly events: string[];
  readonly states?: Record<string, MemberState | "absent">;
}

const cases: Case[] = [
  { name: "a new node joins", steps: script(hb(0, "a")), events: ["0 join a@1"], states: { a: "alive" } },
  {
    name: "heartbeats keep a peer alive",
    steps: script(ticks(0, 3000), [0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000, 2200, 2400, 2600, 2800, 3000].map((t) => hb(t, "a"))),
    events: ["0 join a@1"],
    states: { a: "alive" },
  },
  { name: "silent > suspectAfterMs → suspect", steps: script(hb(0, "a"), ticks(0, 900)), events: ["0 join a@1", "900 suspect a@1"], states: { a: "suspect" } },
  {
    name: "silent > deadAfterMs → dead, after suspect",
    steps: script(hb(0, "a"), ticks(0, 2000)),
    events: ["0 join a@1", "900 suspect a@1", "1700 dead a@1"],
    states: { a: "dead" },
  },
  {
    name: "a suspect heard again (same incarnation) → alive",
    steps: script(hb(0, "a"), ticks(0, 1000), hb(1000, "a"), ticks(1000, 1700)),
    events: ["0 join a@1", "900 suspect a@1", "1000 alive a@1"],
    states: { a: "alive" },
  },
  {
    name: "a dead node heard again with the same incarnation → alive",
    steps: script(hb(0, "a"), ticks(0, 2000), hb(2000, "a")),
    events: ["0 join a@1", "900 suspect a@1", "1700 dead a@1", "2000 alive a@1"],
    states: { a: "alive" },
  },
  {
    name: "a dead node back with a higher incarnation → rejoin",
    steps: script(hb(0, "a"), ticks(0, 2000), hb(2000, "a", 7)),
    events: ["0 join a@1", "900 suspect a@1", "1700 dead a@1", "2000 rejoin a@7 (was 1)"],
    states: { a: "alive" },
  },
  {
    name: "a restart faster than detection → rejoin straight from alive",
    steps: script(hb(0, "a"), hb(200, "a", 2), ticks(0, 400)),
    events: ["0 join a@1", "200 rejoin a@2 (was 1)"],
    states: { a: "alive" },
  },
  {
    name: "a heartbeat of an older incarnation is ignored (does not refresh)",
    steps: script(hb(0, "a", 2), ticks(0, 900), [200, 400, 600, 800].map((t) => hb(t, "a", 1))),
    events: ["0 join a@2", "900 suspect a@2"],
    states: { a: "suspect" },
  },
  {
    name: "our own 1.5 s stall does not make peers suspect",
    // Ticks stop at 200 and resume at 1800 (late by 1500); the peer's beats queued meanwhile arrive after the late tick.
    steps: script(hb(0, "a"), hb(200, "a"), ticks(0, 200), { t: 1800, op: "tick" }, hb(1805, "a"), ticks(1800, 2600), [2000, 2200, 2400, 2600].map((t) => hb(t, "a"))),
    events: ["0 join a@1"],
    states: { a: "alive" },
  },
  {
    name: "a peer really gone across our stall is still found, later by the stall",
    steps: script(hb(0, "a"), ticks(0, 200), { t: 1800, op: "tick" }, ticks(1800, 3500)),
    // Silence counted: t − 0 − 1500 (allowance); > 800 at 2400, > 1600 at 3200.
    events: ["0 join a@1", "2400 suspect a@1", "3200 dead a@1"],
    states: { a: "dead" },
  },
  {
    name: "lateness under the threshold is noise, not a stall",
    steps: script(hb(0, "a"), [140, 280, 420, 560, 700, 840, 980].map((t) => ({ t, op: "tick" as const }))),
    events: ["0 join a@1", "840 suspect a@1"],
  },
  {
    name: "disconnected: live peers become unknown, never dead; reconnect gives everyone a fresh deadAfterMs",
    steps: script(
      hb(0, "a"),
      hb(0, "b"),
      hb(0, "c"),
      [200, 400, 600, 800].map((t) => hb(t, "a")),
      ticks(0, 1700),
      [1000, 1200, 1400, 1600].map((t) => hb(t, "a")),
      hb(1000, "b"),
      conn(1750, false),
      ticks(1700, 6000),
      hb(3000, "a"), // arrives while we are cut off: ignored
      conn(6000, true),
      ticks(6000, 7000),
      hb(6950, "a"),
    ),
    events: [
      "0 join a@1",
      "0 join b@1",
      "0 join c@1",
      "900 suspect b@1",
      "900 suspect c@1",
      "1000 alive b@1",
      "1700 dead c@1",
      "1750 unknown a@1",
      "1750 unknown b@1",
      "6900 suspect a@1",
      "6900 suspect b@1",
      "6950 alive a@1",
    ],
    states: { a: "alive", b: "suspect", c: "dead" },
  },
  {
    name: "a peer that beats slowly gets 4 and 8 of its own intervals",
    steps: script(hb(0, "a", 1, 400), ticks(0, 3400)),
    events: ["0 join a@1", "1700 suspect a@1", "3300 dead a@1"],
  },
  {
    name: "one tick across both thresholds still reports suspect before dead",
    cfg: { tickMs: 2000, stallThresholdMs: 1000 },
    steps: script(hb(0, "a"), { t: 0, op: "tick" }, { t: 2000, op: "tick" }),
    events: ["0 join a@1", "2000 suspect a@1", "2000 dead a@1"],
  },
  {
    name: "dead members are forgotten after the TTL; heard again they join anew",
    cfg: { forgetDeadAfterMs: 10_000 },
    steps: script(hb(0, "a"), ticks(0, 12_000), hb(12_000, "a")),
    events: ["0 join a@1", "900 suspect a@1", "1700 dead a@1", "11800 forgotten a", "12000 join a@1"],
    states: { a: "alive" },
  },
  {
    name: "a dead member is kept until the TTL",
    cfg: { forgetDeadAfterMs: 10_000 },
    steps: script(hb(0, "a"), ticks(0, 11_700)),
    events: ["0 join a@1", "900 suspect a@1", "1700 dead a@1"],
    states: { a: "dead" },
  },
];

describe("FailureDetector", () => {
  it.each(cases)("$name", ({ steps, cfg, events, states }) => {
    const { events: got, d } = run(steps, { ...CFG, ...cfg });
    expect(got).toEqual(events);
    for (const [node, state] of Object.entries(states ?? {})) expect(d.member(node)?.state ?? "absent").toBe(state);
  });

  it("reports the stall it excluded", () => {
    const { stalls } = run(script(ticks(0, 200), { t: 1800, op: "tick" }, { t: 1900, op: "tick" }));
    expect(stalls).toEqual([1500]);
  });

  it("members carry wall-clock times of the last heartbeat and state change", () => {
    const { d } = run(script(hb(0, "a"), hb(300, "a"), ticks(0, 1200)));
    expect(d.members()).toEqual([{ node: "a", incarnation: 1, state: "suspect", lastHeardAt: WALL0 + 300, since: WALL0 + 1200, self: false }]);
    expect(d.counts()).toEqual({ alive: 0, suspect: 1, dead: 0, unknown: 0 });
  });

  it("setConnected is idempotent and heartbeats while cut off are ignored", () => {
    const d = new FailureDetector(CFG);
    d.heard({ node: "a", incarnation: 1, intervalMs: 200 }, at(0));
    expect(d.setConnected(false, at(10))).toHaveLength(1);
    expect(d.setConnected(false, at(20))).toEqual([]);
    expect(d.heard({ node: "b", incarnation: 1, intervalMs: 200 }, at(30))).toEqual({ kind: "ignored-disconnected" });
    expect(d.connected).toBe(false);
    expect(d.setConnected(true, at(40))).toEqual([]);
    expect(d.member("a")?.state).toBe("unknown");
    expect(d.heard({ node: "a", incarnation: 1, intervalMs: 200 }, at(50))).toEqual({ kind: "event", event: { type: "alive", node: "a", incarnation: 1 } });
  });
});
