import { describe, expect, it } from "@jest/globals";
import { InvalidIdError } from "./errors.js";
import { subjects, validateId, validateNodeId } from "./subjects.js";

describe("subjects", () => {
  const s = subjects("prod-1");
  it.each([
    ["root", s.root(), "dcnet.prod-1"],
    ["everything", s.everything(), "dcnet.prod-1.>"],
    ["adminNode", s.adminNode("node_7"), "dcnet.prod-1.admin.node_7"],
    ["adminOp", s.adminOp("node_7", "log-level"), "dcnet.prod-1.admin.node_7.log-level"],
    ["adminAll", s.adminAll(), "dcnet.prod-1.admin._all"],
    ["adminAllOp", s.adminAllOp("ping"), "dcnet.prod-1.admin._all.ping"],
    ["gossipDelta", s.gossipDelta(), "dcnet.prod-1.gossip.delta"],
    ["gossipHeartbeat", s.gossipHeartbeat(), "dcnet.prod-1.gossip.hb"],
    ["gossipDigest", s.gossipDigest(), "dcnet.prod-1.gossip.digest"],
    ["gossipDigestRequest", s.gossipDigestRequest(), "dcnet.prod-1.gossip.digest-request"],
    ["gossipBucket", s.gossipBucket("a"), "dcnet.prod-1.gossip.bucket.a"],
    ["catalogueRegister", s.catalogueRegister(), "dcnet.prod-1.catalogue.register"],
  ])("%s → %s", (_name, got, want) => expect(got).toBe(want));

  it.each(["", "a.b", "a b", "*", ">", "é", "x".repeat(65)])("rejects cluster id %j with a typed error", (bad) => {
    expect(() => subjects(bad)).toThrow(InvalidIdError);
  });

  it.each(["a.b", "*", "", "_all"])("rejects node id %j", (bad) => {
    expect(() => s.adminNode(bad)).toThrow(InvalidIdError);
  });

  it.each(["Ping", "a.b", "", "-x"])("rejects operation %j", (bad) => {
    expect(() => s.adminOp("n", bad)).toThrow(InvalidIdError);
  });

  it("errors carry a stable code and say what was wrong", () => {
    try {
      validateId("a.b", "node id");
      throw new Error("no throw");
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidIdError);
      expect((err as InvalidIdError).code).toBe("DCNET_E_INVALID_ID");
      expect((err as InvalidIdError).message).toBe('node id "a.b" does not match ^[A-Za-z0-9_-]{1,64}$');
    }
  });

  it("validateNodeId accepts 64 chars and returns the id", () => {
    const id = "x".repeat(64);
    expect(validateNodeId(id)).toBe(id);
  });
});
