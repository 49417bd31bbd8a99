// NATS client advisories read at the border: which node a connection belongs to, and what is refused.
import { describe, expect, it } from "@jest/globals";
import { connectionName, nodeOfConnection, parseAdvisory } from "./advisories.js";

const DISCONNECT = "io.nats.server.advisory.v1.client_disconnect";
const bytes = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const disconnect = (client: object, reason = "Client Closed") => bytes({ type: DISCONNECT, id: "x", timestamp: "2026-12-08T00:00:00Z", server: { name: "n1" }, client: { id: 7, acc: "DCNET", ...client }, reason });

describe("advisories: connection names", () => {
  it("names a node's connection by cluster and node, and reads only this cluster's names back", () => {
    expect(connectionName("c1", "agent-3")).toBe("dcnet.c1.agent-3");
    expect(nodeOfConnection("c1", "dcnet.c1.agent-3")).toBe("agent-3");
    expect(nodeOfConnection("c2", "dcnet.c1.agent-3")).toBeUndefined();
    expect(nodeOfConnection("c1", "dcnet.c1.a.b")).toBeUndefined();
    expect(nodeOfConnection("c1", "bench-members-12")).toBeUndefined();
    expect(nodeOfConnection("c1", undefined)).toBeUndefined();
  });
});

describe("advisories: parsing", () => {
  it("a disconnect of a node's connection: the node and the server's reason", () => {
    expect(parseAdvisory("c1", disconnect({ name: "dcnet.c1.a1", user: "dcnet" }, "Read Error"))).toEqual({ ok: true, advisory: { type: "disconnect", node: "a1", reason: "Read Error" } });
    expect(parseAdvisory("c1", bytes({ type: "io.nats.server.advisory.v1.client_connect", client: { name: "dcnet.c1.a1" } }))).toEqual({ ok: true, advisory: { type: "connect", node: "a1", reason: "" } });
  });

  it("another client (a CLI, another cluster's node) is no one's advisory, and not an error", () => {
    expect(parseAdvisory("c1", disconnect({ name: "dcnet-ctl" }))).toEqual({ ok: true, advisory: undefined });
    expect(parseAdvisory("c1", disconnect({}))).toEqual({ ok: true, advisory: undefined });
  });

  it("under certificate users, a connection named after a node must be that node's certificate", () => {
    const dn = (name: string, role: string, cluster = "c1") => `serialNumber=0a1b,CN=${name},OU=${role},O=dcnet-${cluster}`;
    expect(parseAdvisory("c1", disconnect({ name: "dcnet.c1.a1", user: dn("a1", "node") }))).toMatchObject({ ok: true, advisory: { node: "a1" } });
    for (const user of [dn("alice", "viewer"), dn("a2", "node"), dn("a1", "node", "c9")]) {
      const r = parseAdvisory("c1", disconnect({ name: "dcnet.c1.a1", user }));
      expect(r).toMatchObject({ ok: false, reason: "forged-sender" });
      if (!r.ok) expect(r.message).toContain(user);
    }
  });

  it("malformed advisories are refused with what is wrong", () => {
    expect(parseAdvisory("c1", bytes("{not json"))).toMatchObject({ ok: false, reason: "undecodable" });
    const noType = parseAdvisory("c1", bytes({ client: { name: "dcnet.c1.a1" } }));
    expect(noType).toMatchObject({ ok: false, reason: "invalid-body" });
    if (!noType.ok) expect(noType.message).toContain("type");
    expect(parseAdvisory("c1", bytes({ type: DISCONNECT, client: { name: 5 } }))).toMatchObject({ ok: false, reason: "invalid-body" });
    expect(parseAdvisory("c1", bytes({ type: DISCONNECT }))).toMatchObject({ ok: false, reason: "invalid-body" });
  });
});
