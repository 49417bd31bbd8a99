import { describe, it, expect } from "@jest/globals";
import { duration, table, formatStatus, formatMembers } from "./format.js";

describe("cli format", () => {
  it("aligns table columns to the widest cell and trims trailing space", () => {
    expect(table(["A", "LONGER"], [["xx", "1"], ["y", ""]])).toBe("A   LONGER\nxx  1\ny");
  });

  it.each([
    [250, "250ms"],
    [59_000, "59s"],
    [61_000, "1m1s"],
    [3 * 3600_000 + 120_000, "3h2m"],
    [50 * 3600_000, "2d2h"],
  ])("duration(%d) = %s", (ms, text) => expect(duration(ms)).toBe(text));

  it("status shows each actor's restarts and last error, and gossip counters", () => {
    const text = formatStatus({
      node: "a",
      cluster: "c",
      version: "0.1.0",
      pid: 1,
      uptimeMs: 5000,
      logLevel: "info",
      nats: { state: "connected", server: "nats://127.0.0.1:4222", since: 0 },
      actors: [{ path: "/node/x", kind: "worker", status: "running", restarts: 2, lastError: { message: "boom", at: 0 }, uptimeMs: 10, mailbox: 3, dropped: 0 }],
      rejected: [{ kind: "admin.ping", reason: "invalid-body", count: 4 }],
      gossip: { keys: 7, deltasOut: 1, deltasIn: 2, bytesOut: 3, bytesIn: 4, keysRepaired: 5, digestsIn: 6, rejected: 0, synced: true },
    });
    expect(text).toMatch(/\/node\/x\s+worker\s+running\s+2\s+10ms\s+3\s+0\s+boom/);
    expect(text).toContain("gossip: 7 keys, synced");
    expect(text).toMatch(/admin\.ping\s+invalid-body\s+4/);
  });

  it("members marks self and shows states", () => {
    const text = formatMembers({ node: "a", members: [{ node: "a", incarnation: 1, state: "alive", lastHeardAt: 0, since: Date.now(), self: true }, { node: "b", incarnation: 2, state: "dead", lastHeardAt: Date.now() - 3000, since: Date.now() - 1000, self: false }] });
    expect(text).toMatch(/a \(self\)\s+alive\s+1\s+-/);
    expect(text).toMatch(/b\s+dead\s+2\s+3s ago\s+1s/);
  });
});
