// The identities' DNs and NATS permissions, pinned as text: a change here is a change of who may do
// what on the bus, and should be read as one.
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { inboxPrefix, opensslSubject, parseSubject, routesUser, userDn, type CertIdentity } from "./identity.js";
import { permissionsFor, renderUsers } from "./permissions.js";
import { renderServerConfig } from "./server-conf.js";

const agent: CertIdentity = { name: "agent-1", role: "node", cluster: "prod", serial: "1a2b3c4d5e6f7081" };

describe("identities", () => {
  it("writes the DN nats-server maps a certificate to, and the openssl subject that produces it", () => {
    expect(userDn(agent)).toBe("serialNumber=1a2b3c4d5e6f7081,CN=agent-1,OU=node,O=dcnet-prod");
    expect(opensslSubject(agent)).toBe("/O=dcnet-prod/OU=node/CN=agent-1/serialNumber=1a2b3c4d5e6f7081");
    expect(inboxPrefix("prod", "agent-1")).toBe("_INBOX.prod.agent-1");
    expect(routesUser("prod")).toBe("routes.dcnet-prod");
  });

  it("reads a subject as node:crypto prints it back into the identity, and nothing else", () => {
    expect(parseSubject("O=dcnet-prod\nOU=node\nCN=agent-1\nserialNumber=1a2b3c4d5e6f7081")).toEqual(agent);
    expect(parseSubject("O=dcnet-prod\nOU=viewer\nCN=alice\nserialNumber=10")).toEqual({ name: "alice", role: "viewer", cluster: "prod", serial: "10" });
    for (const bad of [
      "O=dcnet-prod\nOU=node\nCN=agent-1", // no serial
      "O=acme\nOU=node\nCN=agent-1\nserialNumber=10", // not our organisation
      "O=dcnet-prod\nOU=root\nCN=agent-1\nserialNumber=10", // not a role
      "O=dcnet-prod\nOU=ca\nCN=dcnet-prod CA\nserialNumber=10", // the CA
      "O=dcnet-prod\nOU=node\nCN=_all\nserialNumber=10", // reserved node id
      "O=dcnet-prod\nOU=node\nCN=a.b\nserialNumber=10", // not a subject token
      "O=dcnet-prod\nOU=node\nCN=a\nCN=b\nserialNumber=10", // two names
      "O=dcnet-prod\nOU=node\nCN=a\nserialNumber=10\nL=x", // extra attribute
    ]) {
      expect(parseSubject(bad)).toBeUndefined();
    }
  });
});

describe("permissions", () => {
  it("a node publishes only on its own gossip subjects and bucket requests, hears what it serves", () => {
    expect(permissionsFor(agent)).toEqual({
      publish: [
        "dcnet.prod.gossip.hb.agent-1",
        "dcnet.prod.gossip.delta.agent-1",
        "dcnet.prod.gossip.digest.agent-1",
        "dcnet.prod.gossip.digest-request.agent-1",
        "dcnet.prod.gossip.bucket.*",
        "dcnet.prod.gossip.swim.*.agent-1",
        "dcnet.prod.gossip.join.agent-1",
      ],
      subscribe: [
        "dcnet.prod.gossip.hb.*",
        "dcnet.prod.gossip.delta.*",
        "dcnet.prod.gossip.digest.*",
        "dcnet.prod.gossip.digest-request.*",
        "dcnet.prod.gossip.bucket.agent-1",
        "dcnet.prod.gossip.swim.agent-1.*",
        "dcnet.prod.gossip.join.*",
        "dcnet.prod.admin.*.agent-1.>",
        "dcnet.prod.admin.*._all.>",
        "$SRV.>",
        "_INBOX.prod.agent-1.>",
        "$SYS.ACCOUNT.*.CONNECT",
        "$SYS.ACCOUNT.*.DISCONNECT",
      ],
      allowResponses: true,
    });
  });

  it("a node's JetStream KV rights name each bucket; without buckets it has none", () => {
    expect(permissionsFor(agent).publish.filter((s) => s.startsWith("$"))).toEqual([]);
    expect(permissionsFor(agent, { kvBuckets: ["alloc"] }).publish.filter((s) => s.startsWith("$"))).toEqual([
      "$JS.API.INFO",
      "$JS.API.STREAM.INFO.KV_alloc",
      "$JS.API.STREAM.CREATE.KV_alloc",
      "$JS.API.DIRECT.GET.KV_alloc.>",
      "$JS.API.CONSUMER.CREATE.KV_alloc.>",
      "$JS.API.CONSUMER.INFO.KV_alloc.>",
      "$JS.API.CONSUMER.DELETE.KV_alloc.>",
      "$KV.alloc.>",
    ]);
    expect(() => permissionsFor(agent, { kvBuckets: ["a.b"] })).toThrow(TypeError);
  });

  it("people publish admin requests under their role and every weaker one, and hear only their own replies", () => {
    const user = (role: "viewer" | "operator" | "admin") => permissionsFor({ name: "pat", role, cluster: "prod" });
    expect(user("viewer")).toEqual({ publish: ["dcnet.prod.admin.viewer.>"], subscribe: ["_INBOX.prod.pat.>"], allowResponses: false });
    expect(user("operator").publish).toEqual(["dcnet.prod.admin.viewer.>", "dcnet.prod.admin.operator.>"]);
    expect(user("admin").publish).toEqual(["dcnet.prod.admin.viewer.>", "dcnet.prod.admin.operator.>", "dcnet.prod.admin.admin.>"]);
  });

  it("renders the users fragment: one user per certificate, servers and other clusters left out", () => {
    const text = renderUsers(
      "prod",
      [
        { name: "root", role: "admin", cluster: "prod", serial: "10cc" },
        agent,
        { name: "alice", role: "viewer", cluster: "prod", serial: "10aa" },
        { name: "nats-1", role: "server", cluster: "prod", serial: "10dd" },
        { name: "agent-2", role: "node", cluster: "staging", serial: "10ee" },
      ],
      { revoked: [{ name: "agent-9", serial: "1234", revokedAt: "2026-01-01T00:00:00.000Z" }] },
    );
    expect(text).toBe(
      [
        '# dcnet users of cluster "prod": generated by `dcnet creds` from issued.json; do not edit, regenerate.',
        "# Include it in the nats-server config next to `tls { verify_and_map: true ... }` and reload the server after a change.",
        "# revoked: agent-9 serial 1234 at 2026-01-01T00:00:00.000Z",
        "authorization {",
        "  timeout: 2",
        "}",
        "system_account: SYS",
        "accounts {",
        '  SYS { exports = [{ stream: "$SYS.ACCOUNT.DCNET.CONNECT" }, { stream: "$SYS.ACCOUNT.DCNET.DISCONNECT" }] }',
        "  DCNET {",
        "    jetstream: enabled",
        '    imports = [{ stream: { account: SYS, subject: "$SYS.ACCOUNT.DCNET.CONNECT" } }, { stream: { account: SYS, subject: "$SYS.ACCOUNT.DCNET.DISCONNECT" } }]',
        "    users = [",
        "      # node agent-1",
        '      { user: "serialNumber=1a2b3c4d5e6f7081,CN=agent-1,OU=node,O=dcnet-prod"',
        "        permissions: {",
        '          publish: { allow: ["dcnet.prod.gossip.hb.agent-1", "dcnet.prod.gossip.delta.agent-1", "dcnet.prod.gossip.digest.agent-1", "dcnet.prod.gossip.digest-request.agent-1", "dcnet.prod.gossip.bucket.*", "dcnet.prod.gossip.swim.*.agent-1", "dcnet.prod.gossip.join.agent-1"] }',
        '          subscribe: { allow: ["dcnet.prod.gossip.hb.*", "dcnet.prod.gossip.delta.*", "dcnet.prod.gossip.digest.*", "dcnet.prod.gossip.digest-request.*", "dcnet.prod.gossip.bucket.agent-1", "dcnet.prod.gossip.swim.agent-1.*", "dcnet.prod.gossip.join.*", "dcnet.prod.admin.*.agent-1.>", "dcnet.prod.admin.*._all.>", "$SRV.>", "_INBOX.prod.agent-1.>", "$SYS.ACCOUNT.*.CONNECT", "$SYS.ACCOUNT.*.DISCONNECT"] }',
        "          allow_responses: true",
        "        } }",
        "      # viewer alice",
        '      { user: "serialNumber=10aa,CN=alice,OU=viewer,O=dcnet-prod"',
        "        permissions: {",
        '          publish: { allow: ["dcnet.prod.admin.viewer.>"] }',
        '          subscribe: { allow: ["_INBOX.prod.alice.>"] }',
        "        } }",
        "      # admin root",
        '      { user: "serialNumber=10cc,CN=root,OU=admin,O=dcnet-prod"',
        "        permissions: {",
        '          publish: { allow: ["dcnet.prod.admin.viewer.>", "dcnet.prod.admin.operator.>", "dcnet.prod.admin.admin.>"] }',
        '          subscribe: { allow: ["_INBOX.prod.root.>"] }',
        "        } }",
        "    ]",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });
});

describe("server config", () => {
  it("TLS with verify_and_map for clients and routes, the users fragment included, routes limited to server certificates", () => {
    const text = renderServerConfig({
      name: "nats-1",
      listen: "10.0.0.1:4222",
      tls: { cert: "/etc/nats/nats-1.crt", key: "/etc/nats/nats-1.key", ca: "/etc/nats/ca.crt" },
      usersFile: "nats-auth.conf",
      dcnetCluster: "prod",
      routes: { name: "dcnet", listen: "10.0.0.1:6222", urls: ["nats-route://10.0.0.2:6222", "nats-route://10.0.0.3:6222"] },
      jetstreamDir: "/var/lib/nats",
    });
    expect(text).toBe(
      [
        'server_name: "nats-1"',
        'listen: "10.0.0.1:4222"',
        "tls {",
        '  cert_file: "/etc/nats/nats-1.crt"',
        '  key_file: "/etc/nats/nats-1.key"',
        '  ca_file: "/etc/nats/ca.crt"',
        "  verify_and_map: true",
        "  timeout: 2",
        "}",
        'include "nats-auth.conf"',
        'jetstream { store_dir: "/var/lib/nats" }',
        "cluster {",
        '  name: "dcnet"',
        '  listen: "10.0.0.1:6222"',
        "  tls {",
        '    cert_file: "/etc/nats/nats-1.crt"',
        '    key_file: "/etc/nats/nats-1.key"',
        '    ca_file: "/etc/nats/ca.crt"',
        "    verify_and_map: true",
        "    timeout: 2",
        "  }",
        '  authorization { user: "routes.dcnet-prod" }',
        '  routes: ["nats-route://10.0.0.2:6222", "nats-route://10.0.0.3:6222"]',
        "}",
        "",
      ].join("\n"),
    );
    expect(() => renderServerConfig({ name: "n", listen: "127.0.0.1:1", tls: { cert: "c", key: "k", ca: "a" }, usersFile: "/abs/nats-auth.conf", dcnetCluster: "prod" })).toThrow("relative");
  });

  it("deploy/nats-server.example.conf is what it makes for server nats-1", () => {
    const example = readFileSync(new URL("../../deploy/nats-server.example.conf", import.meta.url), "utf8");
    const lines = example.split("\n").filter((l) => !l.startsWith("#"));
    expect(lines.join("\n")).toBe(
      renderServerConfig({
        name: "nats-1",
        listen: "0.0.0.0:4222",
        tls: { cert: "/etc/nats/nats-1.crt", key: "/etc/nats/nats-1.key", ca: "/etc/nats/ca.crt" },
        usersFile: "nats/nats-auth.conf",
        dcnetCluster: "prod",
        routes: { name: "dcnet-prod", listen: "0.0.0.0:6222", urls: ["nats-route://10.0.0.2:6222", "nats-route://10.0.0.3:6222"] },
        jetstreamDir: "/var/lib/nats/jetstream",
        http: "127.0.0.1:8222",
      }),
    );
  });
});
