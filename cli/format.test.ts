import { describe, it, expect } from "@jest/globals";
import { formatAll } from "./format.js";

describe("cli format", () => {
  it("--all: one line per node, the op's summary or the node's error", () => {
    const op = { summary: (r: { n: number }) => `${r.n} things` };
    const text = formatAll(op, [
      { node: "a", ok: true, body: { n: 3 } },
      { node: "bb", ok: false, error: "DCNET_E_ADMIN_UNAVAILABLE: /node/gossip/store is not running on this node" },
    ]);
    expect(text).toBe(["NODE  RESULT  DETAIL", "a     ok      3 things", "bb    error   DCNET_E_ADMIN_UNAVAILABLE: /node/gossip/store is not running on this node"].join("\n"));
  });
});
