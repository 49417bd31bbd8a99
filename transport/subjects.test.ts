import { describe, expect, it } from "@jest/globals";
import { InvalidIdError } from "./errors.js";
import { ADMIN_ROLES, ANY, senderOf, subjects, validateId, validateNodeId, type AdminRole } from "./subjects.js";

describe("subjects", () => {
  const s = subjects("prod-1");
  it.each([
    ["root", s.root(), "dcnet.prod-1"],
    ["everything", s.everything(), "dcnet.prod-1.>"],
    ["adminNode", s.adminNode("viewer", "node_7"), "dcnet.prod-1.admin.viewer.node_7"],
    ["adminNode (served)", s.adminNode(ANY, "node_7"), "dcnet.prod-1.admin.*.node_7"],
    ["adminOp", s.adminOp("operator", "node_7", "log-level"), "dcnet.prod-1.admin.operator.node_7.log-level"],
    ["adminAll", s.adminAll("admin"), "dcnet.prod-1.admin.admin._all"],
    ["adminAll (served)", s.adminAll(ANY), "dcnet.prod-1.admin.*._all"],
    ["adminAllOp", s.adminAllOp("viewer", "ping"), "dcnet.prod-1.admin.viewer._all.ping"],
    ["gossipDelta", s.gossipDelta("a"), "dcnet.prod-1.gossip.delta.a"],
    ["gossipDelta (any)", s.gossipDelta(ANY), "dcnet.prod-1.gossip.delta.*"],
    ["gossipHeartbeat", s.gossipHeartbeat("a"), "dcnet.prod-1.gossip.hb.a"],
    ["gossipDigest", s.gossipDigest("a"), "dcnet.prod-1.gossip.digest.a"],
    ["gossipDigestRequest", s.gossipDigestRequest("a"), "dcnet.prod-1.gossip.digest-request.a"],
    ["gossipBucket", s.gossipBucket("a"), "dcnet.prod-1.gossip.bucket.a"],
    ["catalogueRegister", s.catalogueRegister("a"), "dcnet.prod-1.catalogue.register.a"],
  ])("%s → %s", (_name, got, want) => expect(got).toBe(want));

  it.each(["", "a.b", "a b", "*", ">", "é", "x".repeat(65)])("rejects cluster id %j with a typed error", (bad) => {
    expect(() => subjects(bad)).toThrow(InvalidIdError);
  });

  it.each(["a.b", "*", "", "_all", ">"])("rejects node id %j", (bad) => {
    expect(() => s.adminNode("admin", bad)).toThrow(InvalidIdError);
    expect(() => s.gossipBucket(bad)).toThrow(InvalidIdError);
  });

  it.each(["a.b", "", "_all", ">", "**"])("rejects sender %j of a gossip subject (only a node id or ANY)", (bad) => {
    expect(() => s.gossipHeartbeat(bad)).toThrow(InvalidIdError);
    expect(() => s.gossipDelta(bad)).toThrow(InvalidIdError);
  });

  it.each(["root", "Admin", "", "*.x", ">"])("rejects admin role %j", (bad) => {
    expect(() => s.adminOp(bad as AdminRole, "n", "ping")).toThrow(InvalidIdError);
    expect(() => s.adminAll(bad as AdminRole)).toThrow(InvalidIdError);
  });

  it("a request is never published under the wildcard role", () => {
    expect(() => s.adminOp(ANY as AdminRole, "n", "ping")).toThrow(InvalidIdError);
    expect(() => s.adminAllOp(ANY as AdminRole, "ping")).toThrow(InvalidIdError);
  });

  it.each(["Ping", "a.b", "", "-x"])("rejects operation %j", (bad) => {
    expect(() => s.adminOp("admin", "n", bad)).toThrow(InvalidIdError);
  });

  it("reads the caller's role from an admin subject of its cluster only", () => {
    expect(s.adminRoleOf("dcnet.prod-1.admin.viewer.n.ping")).toBe("viewer");
    expect(s.adminRoleOf("dcnet.prod-1.admin.admin._all.shutdown")).toBe("admin");
    expect(s.adminRoleOf("dcnet.prod-1.admin.root.n.ping")).toBeUndefined();
    expect(s.adminRoleOf("dcnet.prod-1.admin.viewerx.n.ping")).toBeUndefined();
    expect(s.adminRoleOf("dcnet.other.admin.admin.n.ping")).toBeUndefined();
    expect(s.adminRoleOf("dcnet.prod-1.gossip.hb.admin")).toBeUndefined();
    expect(ADMIN_ROLES).toEqual(["viewer", "operator", "admin"]);
  });

  it("finds the sender token of a subject", () => {
    expect(senderOf(s.gossipDelta("node_7"), "last")).toBe("node_7");
    expect(senderOf("dcnet.prod-1.catalogue.register.b", 4)).toBe("b");
    expect(senderOf("a.b", 5)).toBe("");
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
