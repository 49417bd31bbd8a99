import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parseReplica, replicaOf } from "./replica.js";

describe("replica ids", () => {
  it("parseReplica inverts replicaOf for valid node ids and incarnations", () => {
    const node = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
    const inc = fc.maxSafeNat();
    fc.assert(fc.property(node, inc, (n, i) => expect(parseReplica(replicaOf(n, i))).toEqual({ node: n, incarnation: i })));
    expect(replicaOf("agent-1", 1700000000000)).toBe("agent-1@1700000000000");
  });

  it.each(["", "a", "a@", "@1", "a@b", "a@-1", "a@01", "a@1.5", "a b@1", "a@1@2", `${"x".repeat(65)}@1`, "a@99999999999999999", "a@1 "])("rejects %p", (r) => {
    expect(parseReplica(r)).toBeUndefined();
  });

  it("never throws and round-trips whatever it accepts", () => {
    fc.assert(
      fc.property(fc.string(), (r) => {
        const p = parseReplica(r);
        if (p !== undefined) expect(replicaOf(p.node, p.incarnation)).toBe(r);
      }),
    );
  });
});
