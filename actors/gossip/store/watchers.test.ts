import { describe, expect, it } from "@jest/globals";
import type { WatchEvent } from "./types.js";
import { Watchers, sameView } from "./watchers.js";

describe("Watchers", () => {
  it("delivers to watches whose prefix covers the key; a throwing subscriber is reported and kept", () => {
    const errors: string[] = [];
    const w = new Watchers((e) => errors.push(`${e.id}:${e.key}`));
    const got: WatchEvent[] = [];
    const a = w.add("vips/", (ev) => got.push(ev));
    const bad = w.add("", () => {
      throw new Error("boom");
    });
    expect(w.covers("vips/x")).toBe(true);
    w.notify({ key: "vips/x", value: undefined, initial: false });
    w.notify({ key: "dns/y", value: undefined, initial: false });
    expect(got.map((e) => e.key)).toEqual(["vips/x"]);
    expect(errors).toEqual([`${bad}:vips/x`, `${bad}:dns/y`]);
    w.remove(bad);
    expect(w.covers("dns/y")).toBe(false);
    w.remove(a);
    expect(w.size).toBe(0);
  });
});

describe("sameView", () => {
  it("compares views structurally, ignoring object key order", () => {
    const ts = { t: 1, c: 0, r: "a@1" };
    expect(sameView({ a: { type: "lww", value: { x: 1, y: [1, 2] }, ts } }, { a: { type: "lww", value: { y: [1, 2], x: 1 }, ts } })).toBe(true);
    expect(sameView({ a: { type: "set", values: [1] } }, { a: { type: "set", values: [1, 2] } })).toBe(false);
    expect(sameView(undefined, { a: { type: "set", values: [] } })).toBe(false);
    expect(sameView(undefined, undefined)).toBe(true);
  });
});
