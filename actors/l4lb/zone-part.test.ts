import { describe, expect, it } from "@jest/globals";
import { NamesBoard, samePublished, type PublishedNames } from "./names-board.js";
import { l4lbZonePart } from "./zone-part.js";

const ctx = { defaults: { ttl: 5, negativeTtl: 1, serial: 1 }, nodeId: "n1", nodeIp: "10.0.0.1" };

describe("l4lb zone part", () => {
  it("serves exactly the names the board holds, A and AAAA, under l4lb.thisdcos.directory", () => {
    const board = new NamesBoard();
    const part = l4lbZonePart(board);
    const state = part.init();
    const events: PublishedNames[] = [];
    const off = part.feed?.subscribe((ev) => events.push(ev));
    expect(events).toHaveLength(1); // the current (empty) state at once
    board.publish(new Map([["mygroupmyapp.marathon", { v4: "11.0.0.37", v6: "fd01:c::1" }]]));
    expect(events).toHaveLength(2);
    expect(part.feed?.fold(state, events[1] as PublishedNames)).toBe(true);
    expect(part.feed?.fold(state, events[1] as PublishedNames)).toBe(false);
    const [zone] = part.build(state, ctx);
    const names = zone?.names.get("mygroupmyapp.marathon.l4lb.thisdcos.directory");
    expect(names?.get("A")?.map((r) => r.data)).toEqual(["11.0.0.37"]);
    expect(names?.get("AAAA")?.map((r) => r.data)).toEqual(["fd01:c::1"]);
    off?.();
    board.publish(new Map());
    expect(events).toHaveLength(2);
  });

  it("a publish that changes nothing is not an event", () => {
    const board = new NamesBoard();
    const seen: number[] = [];
    board.subscribe(() => seen.push(1));
    board.publish(new Map([["a.marathon", { v4: "11.0.0.1" }]]));
    board.publish(new Map([["a.marathon", { v4: "11.0.0.1" }]]));
    expect(seen).toHaveLength(2);
    expect(samePublished(new Map([["a", { v4: "1" }]]), new Map([["a", { v4: "2" }]]))).toBe(false);
  });
});
