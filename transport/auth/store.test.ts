// The credentials folder with the real openssl binary, in a temp folder: what `dcnet creds` writes,
// with which modes, and what the loader makes of it (and of what it must refuse).
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCredsDir, issue, readIssued, revoke, writeUsersFile } from "./store.js";
import { checkNodeCredential, loadCredential } from "./load.js";
import { AUTH_ERROR_CODES, CredsStoreError } from "./errors.js";

let dir: string;
const mode = (f: string): string => (statSync(f).mode & 0o777).toString(8);

beforeAll(async () => {
  dir = join(mkdtempSync(join(tmpdir(), "dcnet-store-")), "creds");
  await initCredsDir(dir, { cluster: "prod" });
  await issue(dir, [
    { name: "nats-1", role: "server", ips: ["127.0.0.1", "10.0.0.1"], dns: ["nats-1.example"] },
    { name: "agent-1", role: "node", days: 10 },
    { name: "alice", role: "viewer" },
  ]);
}, 30_000);

afterAll(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

describe("creds folder", () => {
  it("writes every file 0600 in a 0700 folder, and nothing else is left behind", () => {
    expect(mode(dir)).toBe("700");
    expect(readdirSync(dir).sort()).toEqual(["agent-1.pem", "alice.pem", "ca.crt", "ca.key", "issued.json", "nats-1.crt", "nats-1.key", "nats-auth.conf"]);
    for (const f of readdirSync(dir)) expect([f, mode(join(dir, f))]).toEqual([f, "600"]);
  });

  it("makes an ECDSA P-256 CA and certificates signed by it, with the identity in the subject", () => {
    const ca = new X509Certificate(readFileSync(join(dir, "ca.crt")));
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe("O=dcnet-prod\nOU=ca\nCN=dcnet-prod CA");
    const server = new X509Certificate(readFileSync(join(dir, "nats-1.crt")));
    expect(server.checkIssued(ca) && server.verify(ca.publicKey)).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: "prime256v1" });
    expect(server.subjectAltName).toBe("IP Address:127.0.0.1, IP Address:10.0.0.1, DNS:nats-1.example, DNS:routes.dcnet-prod");
    expect(server.keyUsage).toEqual(expect.arrayContaining(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]));
  });

  it("loads a bundle into TLS material and the identity, days as asked", () => {
    const c = loadCredential(join(dir, "agent-1.pem"));
    expect(c).toMatchObject({ name: "agent-1", role: "node", cluster: "prod", warnings: [] });
    expect(c.serial).toMatch(/^[1-7][0-9a-f]{15}$/);
    expect(c.tls.ca).toBe(readFileSync(join(dir, "ca.crt"), "utf8"));
    expect(c.tls.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const days = (c.notAfter.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(9.9);
    expect(days).toBeLessThan(10.1);
    expect(new X509Certificate(c.tls.cert).keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
  });

  it("records issued certificates and renders one user per client certificate", async () => {
    const list = await readIssued(dir);
    expect(list.cluster).toBe("prod");
    expect(list.certs.map((c) => [c.name, c.role, c.files])).toEqual([
      ["nats-1", "server", ["nats-1.crt", "nats-1.key"]],
      ["agent-1", "node", ["agent-1.pem"]],
      ["alice", "viewer", ["alice.pem"]],
    ]);
    const users = readFileSync(join(dir, "nats-auth.conf"), "utf8");
    const agent = list.certs.find((c) => c.name === "agent-1");
    expect(users).toContain(`{ user: "serialNumber=${agent?.serial},CN=agent-1,OU=node,O=dcnet-prod"`);
    expect(users).toContain(",CN=alice,OU=viewer,O=dcnet-prod");
    expect(users).not.toContain("nats-1");
  });

  it("refuses a second CA, a name with two roles, the reserved name, server SANs on a client", async () => {
    await expect(initCredsDir(dir, { cluster: "prod" })).rejects.toThrow("already has a CA");
    await expect(issue(dir, [{ name: "agent-1", role: "admin" }])).rejects.toThrow('"agent-1" is already a node');
    await expect(issue(dir, [{ name: "ca", role: "server" }])).rejects.toThrow("reserved");
    await expect(issue(dir, [{ name: "bob", role: "viewer", ips: ["10.0.0.9"] }])).rejects.toThrow("for server certificates");
    await expect(issue(join(dir, "nope"), [{ name: "bob", role: "viewer" }])).rejects.toBeInstanceOf(CredsStoreError);
  });

  it("rotates (a second certificate of a name) and revokes one serial, then the name", async () => {
    const before = loadCredential(join(dir, "alice.pem"));
    const [rotated] = await issue(dir, [{ name: "alice", role: "viewer" }]);
    expect(loadCredential(join(dir, "alice.pem")).serial).toBe(rotated?.serial);
    let users = readFileSync(join(dir, "nats-auth.conf"), "utf8");
    expect(users).toContain(`serialNumber=${before.serial},CN=alice`);
    expect(users).toContain(`serialNumber=${rotated?.serial},CN=alice`);
    await revoke(dir, "alice", { serial: before.serial });
    users = readFileSync(join(dir, "nats-auth.conf"), "utf8");
    expect(users).not.toContain(`serialNumber=${before.serial},CN=alice`);
    expect(users).toContain(`# revoked: alice serial ${before.serial}`);
    expect(loadCredential(join(dir, "alice.pem")).serial).toBe(rotated?.serial); // the new bundle stays
    await revoke(dir, "alice");
    expect(readdirSync(dir)).not.toContain("alice.pem");
    expect(readFileSync(join(dir, "nats-auth.conf"), "utf8")).not.toContain("CN=alice,");
    await expect(revoke(dir, "alice")).rejects.toThrow('no live certificate of "alice"');
  });

  it("leaves expired certificates out of the users fragment", async () => {
    await writeUsersFile(dir, { now: new Date(Date.now() + 30 * 86_400_000) });
    const users = readFileSync(join(dir, "nats-auth.conf"), "utf8");
    expect(users).not.toContain("CN=agent-1,");
    await writeUsersFile(dir);
    expect(readFileSync(join(dir, "nats-auth.conf"), "utf8")).toContain("CN=agent-1,");
  });
});

describe("loadCredential refuses clearly", () => {
  const file = (name: string, text: string, fileMode = 0o600): string => {
    const f = join(dir, "..", name);
    writeFileSync(f, text, { mode: fileMode });
    chmodSync(f, fileMode);
    return f;
  };
  const pem = () => readFileSync(join(dir, "agent-1.pem"), "utf8");

  it("a missing file", () => {
    expect(() => loadCredential(join(dir, "nobody.pem"))).toThrow(expect.objectContaining({ code: AUTH_ERROR_CODES.credentialMissing, message: expect.stringContaining("nobody.pem: no such file") }));
  });

  it("a file others can read: loaded, with a warning", () => {
    const c = loadCredential(file("open.pem", pem(), 0o644));
    expect(c.warnings).toEqual([expect.stringMatching(/can be read by other users \(mode 0644\): chmod 600 .*open\.pem$/)]);
  });

  it("not our format: no key, a key of another certificate, no CA, a foreign subject", () => {
    const [caPem, certPem, keyPem] = pem()
      .split(/(?=-----BEGIN )/)
      .slice(1);
    const invalid = (text: string, problem: string) =>
      expect(() => loadCredential(file("bad.pem", text))).toThrow(expect.objectContaining({ code: AUTH_ERROR_CODES.credentialInvalid, message: expect.stringContaining(problem) }));
    invalid("hello\n", "found 0 certificate(s) and 0 private key(s)");
    invalid(`${caPem}${certPem}`, "found 2 certificate(s) and 0 private key(s)");
    const otherKey = readFileSync(join(dir, "nats-1.key"), "utf8");
    invalid(`${caPem}${certPem}${otherKey}`, "no certificate in it matches its private key");
    invalid(`${certPem}${keyPem}`, "is not signed by a CA certificate in the bundle");
    const work = mkdtempSync(join(dir, "..", "foreign-"));
    execFileSync("openssl", ["req", "-x509", "-CA", join(dir, "ca.crt"), "-CAkey", join(dir, "ca.key"), "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(work, "k"), "-out", join(work, "c"), "-subj", "/O=acme/CN=x", "-days", "1"], { stdio: "ignore" });
    invalid(`${caPem}${readFileSync(join(work, "c"), "utf8")}${readFileSync(join(work, "k"), "utf8")}`, "subject O=acme,CN=x is not a dcnet identity");
    expect(() => loadCredential(file("bad.pem", `${caPem}${certPem}${otherKey.replace("MI", "XX")}`))).toThrow(expect.objectContaining({ message: expect.not.stringContaining("XX") }));
  });

  it("expired, naming the date", () => {
    const c = loadCredential(join(dir, "agent-1.pem"));
    const later = new Date(c.notAfter.getTime() + 1000);
    expect(() => loadCredential(join(dir, "agent-1.pem"), later)).toThrow(expect.objectContaining({ code: AUTH_ERROR_CODES.credentialExpired, message: expect.stringContaining(`expired on ${c.notAfter.toISOString()}`) }));
  });

  it("a node credential of another node, cluster or role", () => {
    const server = loadCredential(file("server.pem", readFileSync(join(dir, "ca.crt"), "utf8") + readFileSync(join(dir, "nats-1.crt"), "utf8") + readFileSync(join(dir, "nats-1.key"), "utf8")));
    expect(server).toMatchObject({ name: "nats-1", role: "server" });
    expect(() => checkNodeCredential(server, { cluster: "prod", id: "nats-1" })).toThrow('is for server "nats-1" of cluster "prod", not a node');
    const c = loadCredential(join(dir, "agent-1.pem"));
    expect(() => checkNodeCredential(c, { cluster: "prod", id: "agent-1" })).not.toThrow();
    expect(() => checkNodeCredential(c, { cluster: "prod", id: "agent-2" })).toThrow('is for node "agent-1" of cluster "prod"; this node\'s id is "agent-2"');
    expect(() => checkNodeCredential(c, { cluster: "dev", id: "agent-1" })).toThrow('this node is in cluster "dev"');
    expect(() => checkNodeCredential({ ...c, role: "admin" }, { cluster: "prod", id: "agent-1" })).toThrow(expect.objectContaining({ code: AUTH_ERROR_CODES.credentialMismatch }));
  });
});
