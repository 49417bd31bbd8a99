import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { hlcCompare } from "./hlc.js";
import { emptyKey, isEmpty, merge } from "./kernel.js";
import { addToSet, read, removeField, removeFromSet, removeKey, setField } from "./map.js";
import { deepFreeze, FIELDS, historyArb, REPLICAS, stateArb, VALUES } from "../../../testkit/gossip/crdt.js";
import type { Hlc, KeyState, Value } from "./types.js";
import { sameValue } from "./value.js";

const apply = (s: KeyState, d: KeyState): KeyState => merge(s, d);
const fieldArb = fc.constantFrom(...FIELDS);
const valueArb = fc.constantFrom(...VALUES);
const hasElem = (s: KeyState, f: string, v: Value): boolean => s.entries.some(([, e]) => e.f === f && e.k === "set" && sameValue(e.e, v));

describe("add-wins sets", () => {
  it("a concurrent add and remove of the same element leave it present", () => {
    const arb = fc.tuple(historyArb, fc.nat(3), fc.nat(3), fieldArb, valueArb);
    fc.assert(
      fc.property(arb, ([h, i0, j0, f, v]) => {
        const n = h.states.length;
        const i = i0 % n;
        const j = (i + 1 + (j0 % (n - 1))) % n; // j ≠ i
        const si = h.states[i] as KeyState;
        const sj = h.states[j] as KeyState;
        const afterRemove = apply(si, removeFromSet(si, f, v));
        const afterAdd = apply(sj, addToSet(sj, REPLICAS[j] as string, f, v));
        expect(hasElem(afterRemove, f, v)).toBe(false);
        const m = merge(afterRemove, afterAdd);
        expect(hasElem(m, f, v)).toBe(true);
        const view = read(m)?.[f];
        if (view?.type === "set") expect(view.values.some((x) => sameValue(x, v))).toBe(true);
      }),
    );
  });

  it("a remove that has seen the add wins over it", () => {
    let s = emptyKey();
    s = apply(s, addToSet(s, "a@1", "x", 1));
    const b = apply(s, removeFromSet(s, "x", 1));
    expect(read(merge(s, b))).toBeUndefined();
  });

  it("identifies elements by canonical JSON and reads them distinct, in canonical order", () => {
    let s = emptyKey();
    const adds: [string, Value][] = [
      ["a@1", { q: 2, p: 1 }],
      ["b@1", { p: 1, q: 2 }],
      ["c@1", "b"],
      ["d@1", 10],
      ["e@1", [1]],
    ];
    for (const [r, v] of adds) {
      s = merge(s, addToSet(emptyKey(), r, "x", v)); // concurrent: none saw another
    }
    // Canonical JSON by code units: '"b"' < '10' < '[1]' < '{"p":1,"q":2}'.
    expect(read(s)).toEqual({ x: { type: "set", values: ["b", 10, [1], { p: 1, q: 2 }] } });
    s = apply(s, removeFromSet(s, "x", { q: 2, p: 1 }));
    expect(read(s)).toEqual({ x: { type: "set", values: ["b", 10, [1]] } });
  });

  it("re-adding replaces the element's older dots, so a set does not grow with re-adds", () => {
    let s = emptyKey();
    for (let i = 0; i < 100; i++) s = apply(s, addToSet(s, i % 2 === 0 ? "a@1" : "b@1", "x", "e"));
    expect(s.entries).toHaveLength(1);
  });
});

describe("LWW registers", () => {
  it("concurrent writes are all kept, read picks the highest HLC, and the next write replaces them all", () => {
    const ts = fc.record({ t: fc.nat(5), c: fc.nat(3) });
    const arb = fc.array(fc.tuple(ts, valueArb), { minLength: 2, maxLength: 4 });
    fc.assert(
      fc.property(arb, (writes) => {
        let s = emptyKey();
        const stamps: Hlc[] = [];
        writes.forEach(([t, v], i) => {
          const hlc = { ...t, r: REPLICAS[i] as string };
          stamps.push(hlc);
          s = merge(s, setField(emptyKey(), hlc.r, "x", v, hlc));
        });
        expect(s.entries).toHaveLength(writes.length);
        const best = stamps.reduce((a, b) => (hlcCompare(a, b) >= 0 ? a : b));
        const view = read(s)?.["x"];
        expect(view?.type === "lww" && view.ts).toEqual(best);
        expect(view?.type === "lww" && sameValue(view.value, writes[stamps.indexOf(best)]?.[1] as Value)).toBe(true);
        s = apply(s, setField(s, "a@1", "x", "last", { t: 9, c: 0, r: "a@1" }));
        expect(s.entries).toHaveLength(1);
        expect(read(s)).toEqual({ x: { type: "lww", value: "last", ts: { t: 9, c: 0, r: "a@1" } } });
      }),
    );
  });

  it("reads the register when writers disagree on a field's kind", () => {
    let s = emptyKey();
    s = merge(s, addToSet(emptyKey(), "a@1", "x", 1));
    s = merge(s, setField(emptyKey(), "b@1", "x", "v", { t: 1, c: 0, r: "b@1" }));
    expect(read(s)).toEqual({ x: { type: "lww", value: "v", ts: { t: 1, c: 0, r: "b@1" } } });
    // A later write by someone who saw both clears the conflict.
    s = apply(s, removeField(s, "x"));
    s = apply(s, addToSet(s, "a@1", "x", 2));
    expect(read(s)).toEqual({ x: { type: "set", values: [2] } });
  });
});

describe("removals", () => {
  it("removeField leaves no entry of the field; removeKey leaves none at all", () => {
    fc.assert(
      fc.property(stateArb, fieldArb, (s, f) => {
        const after = merge(s, removeField(s, f));
        expect(after.entries.some(([, e]) => e.f === f)).toBe(false);
        expect(read(after)?.[f]).toBeUndefined();
        expect(isEmpty(merge(s, removeKey(s)))).toBe(true);
        expect(read(merge(s, removeKey(s)))).toBeUndefined();
      }),
    );
  });

  it("removing what is not there is an empty delta that changes nothing", () => {
    const s = apply(emptyKey(), addToSet(emptyKey(), "a@1", "x", 1));
    expect(removeFromSet(s, "x", 2)).toEqual(emptyKey());
    expect(removeField(s, "y")).toEqual(emptyKey());
    expect(merge(s, removeFromSet(s, "x", 2))).toBe(s);
  });

  it("10,000 alternating set/remove on one field leave ≤ 1 entry, one vv entry and an empty cloud", () => {
    let s = emptyKey();
    let most = 0;
    for (let i = 0; i < 10_000; i++) {
      const d = i % 2 === 0 ? setField(s, "a@1", "x", i, { t: i, c: 0, r: "a@1" }) : removeField(s, "x");
      s = merge(s, d);
      most = Math.max(most, s.entries.length);
    }
    expect(most).toBe(1);
    expect(s.entries).toHaveLength(0);
    expect(s.cc).toEqual({ vv: { "a@1": 5000 }, cloud: [] });
  });
});

describe("mutators", () => {
  it("return small deltas: one entry, a context of the replaced dots plus the new one", () => {
    let s = emptyKey();
    s = apply(s, setField(s, "a@1", "x", 1, { t: 1, c: 0, r: "a@1" }));
    s = apply(s, setField(s, "a@1", "y", 2, { t: 2, c: 0, r: "a@1" }));
    const d = setField(s, "b@1", "x", 3, { t: 3, c: 0, r: "b@1" });
    expect(d).toEqual({
      entries: [[{ r: "b@1", n: 1 }, { f: "x", k: "lww", v: 3, ts: { t: 3, c: 0, r: "b@1" } }]],
      cc: { vv: { "a@1": 1, "b@1": 1 }, cloud: [] },
    });
    expect(setField(s, "a@1", "y", 4, { t: 4, c: 0, r: "a@1" }).cc).toEqual({ vv: {}, cloud: [{ r: "a@1", n: 2 }, { r: "a@1", n: 3 }] });
  });

  it("never mutate their (frozen) input", () => {
    fc.assert(
      fc.property(stateArb, fieldArb, valueArb, (s0, f, v) => {
        const s = deepFreeze(s0);
        const before = JSON.stringify(s);
        const ts = { t: 1, c: 0, r: "z@1" };
        for (const d of [setField(s, "z@1", f, v, ts), addToSet(s, "z@1", f, v), removeFromSet(s, f, v), removeField(s, f), removeKey(s)]) merge(s, d);
        read(s);
        expect(JSON.stringify(s)).toBe(before);
      }),
    );
  });

  it("keep working with replica ids and field names that are Object.prototype members", () => {
    let s = emptyKey();
    for (const name of ["__proto__", "constructor", "toString"]) {
      s = apply(s, addToSet(s, name, name, 1));
      s = apply(s, setField(s, name, `${name}!`, 2, { t: 1, c: 0, r: name }));
    }
    const view = read(s) ?? {};
    expect(Object.getPrototypeOf(view)).toBe(Object.prototype);
    expect(Object.keys(view).sort()).toEqual(["__proto__", "__proto__!", "constructor", "constructor!", "toString", "toString!"]);
    expect(Object.keys(s.cc.vv).sort()).toEqual(["__proto__", "constructor", "toString"]);
    expect(s.cc.vv["__proto__"]).toBe(2);
    expect(isEmpty(merge(s, removeKey(s)))).toBe(true);
  });
});
