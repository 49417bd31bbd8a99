import { describe, it, expect } from "@jest/globals";
import { EMPTY_DESIRED } from "../model.js";
import { conntrackFlushes } from "./conntrack-plan.js";
import { state, vip } from "./testkit.js";

// Address plan: IP VIPs 11.0.0.x / fd01:c::x, backends 9.0.N.2 on host N.

const flushed = (prev: Parameters<typeof conntrackFlushes>[0], next: Parameters<typeof conntrackFlushes>[1]) =>
  conntrackFlushes(prev, next).map((f) => `${f.family} ${f.protocol} ${f.vip}:${f.vport} ${f.backend.ip}:${f.backend.port}`);

describe("conntrackFlushes", () => {
  const udp = vip("11.0.0.13", "udp", 53, [["9.0.2.2", 53], ["9.0.3.2", 53]]);
  const tcp = vip("11.0.0.12", "tcp", 7000, [["9.0.2.2", 7000], ["9.0.3.2", 7000]]);

  it("nothing when nothing changed", () => {
    expect(flushed(state([udp, tcp]), state([{ ...udp }, { ...tcp }]))).toEqual([]);
  });

  it("UDP: a backend that starts draining is flushed at once (a fixed-port client would stay on it)", () => {
    const next = vip("11.0.0.13", "udp", 53, [["9.0.3.2", 53]], [["9.0.2.2", 53]]);
    expect(flushed(state([udp]), state([next]))).toEqual(["ip udp 11.0.0.13:53 9.0.2.2:53"]);
  });

  it("TCP: a draining backend keeps its established connections; one that is gone is flushed", () => {
    const draining = vip("11.0.0.12", "tcp", 7000, [["9.0.3.2", 7000]], [["9.0.2.2", 7000]]);
    expect(flushed(state([tcp]), state([draining]))).toEqual([]);
    const gone = vip("11.0.0.12", "tcp", 7000, [["9.0.3.2", 7000]]);
    expect(flushed(state([draining]), state([gone]))).toEqual(["ip tcp 11.0.0.12:7000 9.0.2.2:7000"]);
    expect(flushed(state([tcp]), state([gone]))).toEqual(["ip tcp 11.0.0.12:7000 9.0.2.2:7000"]);
  });

  it("a VIP that disappears flushes all its backends, draining ones too for TCP", () => {
    const v6 = vip("fd01:c::13", "udp", 53, [["fd00:77::2", 53]]);
    const withDrain = vip("11.0.0.12", "tcp", 7000, [["9.0.3.2", 7000]], [["9.0.2.2", 7000]]);
    expect(flushed(state([withDrain, v6]), EMPTY_DESIRED)).toEqual([
      "ip tcp 11.0.0.12:7000 9.0.3.2:7000",
      "ip tcp 11.0.0.12:7000 9.0.2.2:7000",
      "ip6 udp fd01:c::13:53 fd00:77::2:53",
    ]);
  });

  it("a backend only moving between indexes is not flushed", () => {
    const grown = vip("11.0.0.13", "udp", 53, [["9.0.1.2", 53], ["9.0.2.2", 53], ["9.0.3.2", 53]]);
    expect(flushed(state([udp]), state([grown]))).toEqual([]);
  });
});
