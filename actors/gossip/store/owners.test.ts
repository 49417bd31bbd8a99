import { describe, expect, it } from "@jest/globals";
import { emptyKey, hlcNow, merge, removeField, setField } from "../crdt/index.js";
import type { KeyState } from "../crdt/types.js";
import { Ownership, dropPredicate, foreignReplica, mentions } from "./owners.js";

const GRACE = 1000;

function write(s: KeyState, r: string, field: string, v: string): KeyState {
  return merge(s, setField(s, r, field, v, hlcNow(undefined, r, 1)));
}

describe("foreignReplica (identity rule for deltas)", () => {
  it("accepts a delta whose entries are the sender's, whatever its causal context", () => {
    let s = write(emptyKey(), "b@1", "f", "by-b");
    const d = setField(s, "a@5", "f", "by-a", hlcNow(undefined, "a@5", 2)); // replaces b's dot: cc mentions b@1
    expect(foreignReplica("a", d)).toBeUndefined();
    s = merge(s, d);
    expect(foreignReplica("a", removeField(s, "f"))).toBeUndefined();
  });

  it("names the first entry that belongs to another node", () => {
    const s = write(write(emptyKey(), "a@1", "f", "x"), "b@1", "g", "y");
    expect(foreignReplica("a", s)).toBe("b@1");
    expect(foreignReplica("c", write(emptyKey(), "cc@1", "f", "x"))).toBe("cc@1");
  });
});

describe("mentions / dropPredicate", () => {
  it("sees replicas in entries and in the causal context", () => {
    const s = write(emptyKey(), "x@1", "f", "v");
    const overwritten = merge(s, setField(s, "y@1", "f", "w", hlcNow(undefined, "y@1", 2)));
    expect(mentions(overwritten, (r) => r === "x@1")).toBe(true); // only in cc now
    const drop = dropPredicate([{ node: "x", below: 2 }]);
    expect(drop("x@1")).toBe(true);
    expect(drop("x@2")).toBe(false);
    expect(drop("xx@1")).toBe(false);
  });
});

describe("Ownership", () => {
  it("drops a dead node's incarnation after the grace, then filters its late entries", () => {
    const o = new Ownership(GRACE);
    o.event({ type: "dead", node: "x", incarnation: 7 }, 0);
    expect(o.due(GRACE - 1)).toEqual([]);
    expect(o.isDead("x@7")).toBe(false);
    expect(o.due(GRACE)).toEqual([{ node: "x", below: 8 }]);
    expect(o.isDead("x@7")).toBe(true);
    expect(o.isDead("x@8")).toBe(false);
    const late = write(write(emptyKey(), "x@7", "f", "late"), "y@1", "g", "kept");
    const filtered = o.filter(late);
    expect(mentions(filtered, (r) => r === "x@7")).toBe(false);
    expect(filtered.entries).toHaveLength(1);
  });

  it("cancels the drop when the node is heard alive with the same incarnation within the grace", () => {
    const o = new Ownership(GRACE);
    o.event({ type: "dead", node: "x", incarnation: 7 }, 0);
    o.event({ type: "alive", node: "x", incarnation: 7 }, 500);
    // Only incarnations older than the living one are planned away.
    expect(o.due(10 * GRACE)).toEqual([{ node: "x", below: 7 }]);
    expect(o.isDead("x@7")).toBe(false);
    expect(o.isDead("x@6")).toBe(true);
  });

  it("un-deads a node heard alive with the same incarnation after the grace (a long partition)", () => {
    const o = new Ownership(GRACE);
    o.event({ type: "dead", node: "x", incarnation: 7 }, 0);
    o.due(GRACE);
    expect(o.isDead("x@7")).toBe(true);
    o.event({ type: "alive", node: "x", incarnation: 7 }, 2 * GRACE);
    expect(o.isDead("x@7")).toBe(false);
    expect(o.isDead("x@6")).toBe(true);
    const late = write(emptyKey(), "x@7", "f", "written during the partition");
    expect(o.filter(late).entries).toHaveLength(1);
  });

  it("on rejoin drops the older incarnations only, grace after the join", () => {
    const o = new Ownership(GRACE);
    o.event({ type: "rejoin", node: "x", incarnation: 20, previous: 7 }, 100);
    expect(o.nextDueAt()).toBe(100 + GRACE);
    expect(o.due(100 + GRACE)).toEqual([{ node: "x", below: 20 }]);
    expect(o.isDead("x@7")).toBe(true);
    expect(o.isDead("x@19")).toBe(true);
    expect(o.isDead("x@20")).toBe(false);
  });

  it("plans fall due in time order, however they were made: a cancelled one never, one made with an earlier clock before later ones", () => {
    const o = new Ownership(GRACE);
    for (let i = 0; i < 2000; i++) o.event({ type: "join", node: `n${i}`, incarnation: 5 }, i);
    o.event({ type: "dead", node: "d", incarnation: 3 }, 2500);
    o.event({ type: "alive", node: "d", incarnation: 3 }, 2600); // back within the grace: cancelled
    o.event({ type: "dead", node: "late", incarnation: 4 }, 100); // the clock stepped back
    expect(o.nextDueAt()).toBe(GRACE);
    expect(o.due(GRACE + 99).map((d) => d.node)).toEqual(Array.from({ length: 100 }, (_, i) => `n${i}`));
    expect(o.due(GRACE + 100).map((d) => d.node)).toEqual(["n100", "late"]);
    expect(o.due(GRACE + 1999)).toHaveLength(1899);
    expect(o.nextDueAt()).toBe(2600 + GRACE); // the alive's own plan (older incarnations of d)
    expect(o.due(10 * GRACE)).toEqual([{ node: "d", below: 3 }]);
    expect(o.isDead("d@3")).toBe(false);
    expect(o.nextDueAt()).toBeUndefined();
    expect(o.planned).toEqual([]);
  });

  it("dead then rejoin: the dead incarnation goes at its grace, older ones of the new life at the rejoin's", () => {
    const o = new Ownership(GRACE);
    o.event({ type: "dead", node: "x", incarnation: 7 }, 0);
    o.event({ type: "rejoin", node: "x", incarnation: 9, previous: 7 }, 300);
    expect(o.due(GRACE)).toEqual([{ node: "x", below: 8 }]);
    expect(o.due(300 + GRACE)).toEqual([{ node: "x", below: 9 }]);
    expect(o.due(10 * GRACE)).toEqual([]);
  });

  it("this node's older incarnations and members' older incarnations are planned at start", () => {
    const o = new Ownership(GRACE);
    o.self("me", 50, 0);
    o.members([{ node: "p", incarnation: 30, state: "alive", lastHeardAt: 0, since: 0, self: false }], 0);
    expect(o.due(GRACE)).toEqual([
      { node: "me", below: 50 },
      { node: "p", below: 30 },
    ]);
  });

  it("does not plan what the dead set already covers, and ignores suspect/unknown", () => {
    const o = new Ownership(GRACE);
    o.event({ type: "rejoin", node: "x", incarnation: 20, previous: 7 }, 0);
    o.due(GRACE);
    o.event({ type: "join", node: "x", incarnation: 20 }, GRACE);
    o.event({ type: "alive", node: "x", incarnation: 20 }, GRACE);
    o.event({ type: "suspect", node: "x", incarnation: 20 }, GRACE);
    o.event({ type: "unknown", node: "x", incarnation: 20 }, GRACE);
    expect(o.planned).toEqual([]);
    expect(o.nextDueAt()).toBeUndefined();
  });

  it("many nodes: a cancelled removal never falls due, the others each at their own grace, none early", () => {
    const o = new Ownership(GRACE);
    for (let i = 0; i < 1000; i++) o.event({ type: "join", node: `n${i}`, incarnation: 5 }, i);
    o.event({ type: "dead", node: "n0", incarnation: 5 }, 0);
    o.event({ type: "alive", node: "n0", incarnation: 5 }, 1);
    expect(o.nextDueAt()).toBeLessThanOrEqual(GRACE);
    expect(o.due(GRACE - 1)).toEqual([]);
    expect(o.due(GRACE + 499).map((d) => d.node)).toEqual(Array.from({ length: 500 }, (_, i) => `n${i}`));
    expect(o.isDead("n0@5")).toBe(false);
    expect(o.due(GRACE + 999)).toHaveLength(500);
    expect([o.due(10 * GRACE), o.nextDueAt()]).toEqual([[], undefined]);
  });
});
