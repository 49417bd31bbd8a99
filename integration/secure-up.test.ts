// Secure by default, as a user meets it: `dcnet up` runs TLS with throwaway credentials and
// `dcnet ctl` finds its admin credential without flags; `dcnet node` refuses a NATS server that lets
// anyone in unless --insecure; nodes with credentials work together on a secured server and their
// logs never carry key material. Real processes (bin/dcnet.js), real nats-servers on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnDcnet, runDcnet, isReady, type DcnetProcess, type LogLine } from "./support/dcnet-process.js";
import { freePort } from "./support/ports.js";
import { startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { expiredBundle, makeTestCreds, type TestCreds } from "./harness/creds.js";

const mode = (f: string): string => (statSync(f).mode & 0o777).toString(8);

/** Every line of base64 inside the PRIVATE KEY blocks of a PEM file. */
function keyLines(file: string): string[] {
  const out: string[] = [];
  for (const m of readFileSync(file, "utf8").matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----\n([\s\S]*?)-----END/g)) out.push(...(m[1] ?? "").split("\n").filter((l) => l.length >= 16));
  return out;
}

function expectNoSecrets(output: string, files: readonly string[]): void {
  expect(output).not.toContain("PRIVATE KEY");
  for (const f of files) for (const line of keyLines(f)) expect(output).not.toContain(line);
}

const text = (lines: readonly LogLine[]): string => lines.map((l) => JSON.stringify(l)).join("\n");

describe("dcnet up: TLS and throwaway credentials by default", () => {
  const state = mkdtempSync(join(tmpdir(), "dcnet-state-"));
  // Its own state folder, and no insecure or credential setting leaking in from the environment.
  const env = { XDG_STATE_HOME: state, DCNET_NATS_INSECURE: "", DCNET_NATS_CREDENTIALS: "" };
  let up: DcnetProcess;
  let port: number;
  let dir: string;

  beforeAll(async () => {
    port = await freePort();
    dir = join(state, "dcnet", "up", String(port));
    up = spawnDcnet(["up", "--nats-port", String(port), "--id", "sec-up", "--dns-listen", `127.0.0.1:${await freePort()}`, "--metrics-listen", ""], env);
    await up.waitForLine(isReady, 30_000);
  }, 40_000);

  afterAll(async () => {
    await up?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  it("dcnet ctl ping with no flags works over TLS with the admin credential dcnet up wrote", async () => {
    const r = await runDcnet(["ctl", "ping"], { ...env, DCNET_NATS: `nats://127.0.0.1:${port}` });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pong from sec-up \(dcnet \d+\.\d+\.\d+, up \S+\) in [\d.]+ ms/);
  }, 20_000);

  it("the server refuses a client without a credential, and ctl says what to pass", async () => {
    const r = await runDcnet(["ctl", "--nats", `nats://127.0.0.1:${port}`, "--insecure", "--timeout", "1000", "ping"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the server requires TLS with a client certificate: pass --creds <file>");
  }, 20_000);

  it("its credentials are files of mode 0600 in a 0700 folder: CA, server, node, admin", () => {
    expect(mode(dir)).toBe("700");
    const files = readdirSync(dir).sort();
    expect(files).toEqual(expect.arrayContaining(["admin.pem", "ca.crt", "ca.key", "nats-auth.conf", "nats-server.conf", "nats-server.crt", "nats-server.key", "sec-up.pem"]));
    for (const f of files) expect([f, mode(join(dir, f))]).toEqual([f, "600"]);
  });

  it("the node logs which credential it uses and never any key material", () => {
    const lines = up.lines();
    expect(lines.find((l) => l.msg === "NATS credential loaded")).toMatchObject({ name: "sec-up", role: "node", file: join(dir, "sec-up.pem") });
    expect(lines.filter((l) => l.level === "warn" && /insecure/.test(String(l.msg)))).toEqual([]);
    expect(text(lines)).not.toMatch(/Permissions Violation/);
    expectNoSecrets(text(lines) + up.stderr(), ["ca.key", "nats-server.key", "sec-up.pem", "admin.pem"].map((f) => join(dir, f)));
  });

  it("a second dcnet up on the same port exits 1 and leaves the first one's credentials alone", async () => {
    const again = await runDcnet(["up", "--nats-port", String(port), "--id", "other"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`127.0.0.1:${port} is in use`);
    expect((await runDcnet(["ctl", "ping"], { ...env, DCNET_NATS: `nats://127.0.0.1:${port}` })).code).toBe(0);
  }, 20_000);

  it("SIGTERM stops it and removes the throwaway credentials", async () => {
    const { code } = await up.stop(10_000);
    expect(code).toBe(0);
    expect(() => statSync(dir)).toThrow();
  }, 20_000);
});

describe("dcnet node against a NATS server without authentication", () => {
  let plain: NatsServerHandle;
  const procs: DcnetProcess[] = [];

  beforeAll(async () => {
    plain = await startNatsServer({});
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await plain?.stop();
  });

  it("refuses to run: exit 2, saying why and what to do", async () => {
    const r = await runDcnet(["node", "--nats", plain.url, "--id", "open-1", "--dns-listen", `127.0.0.1:${await freePort()}`, "--metrics-listen", ""], { DCNET_NATS_INSECURE: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`NATS server ${plain.url} does not require authentication`);
    expect(r.stderr).toContain("or pass --insecure (nats.insecure: true) to run anyway");
    expect(r.stdout).toContain('"code":"DCNET_E_NATS_UNAUTHENTICATED"');
  }, 20_000);

  it("with --insecure it runs, and says so in a warning", async () => {
    const node = spawnDcnet(["node", "--nats", plain.url, "--id", "open-2", "--insecure", "--dns-listen", `127.0.0.1:${await freePort()}`, "--metrics-listen", ""]);
    procs.push(node);
    await node.waitForLine(isReady, 20_000);
    const warning = node.lines().find((l) => l.level === "warn" && String(l.msg).startsWith("nats.insecure is set"));
    expect(warning).toMatchObject({ authRequired: false, tlsRequired: false });
  }, 30_000);
});

describe("nodes with credentials on a secured server", () => {
  let creds: TestCreds;
  let server: NatsServerHandle;
  const procs: DcnetProcess[] = [];
  const start = async (id: string, bundle: string, extra: Record<string, string> = {}): Promise<DcnetProcess> => {
    const p = spawnDcnet(["node", "--nats", server.url, "--cluster", "sec", "--id", id, "--creds", bundle, "--dns-listen", `127.0.0.1:${await freePort()}`, "--metrics-listen", ""], { DCNET_NATS_INSECURE: "", ...extra });
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    creds = await makeTestCreds({ cluster: "sec", nodes: ["s1", "s2"], users: [{ name: "ops", role: "operator" }] });
    server = await startNatsServer({ secure: creds.server() });
  }, 30_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await server?.stop();
    creds?.cleanup();
  });

  it("two nodes gossip within their permissions: members alive, state replicated, no violation", async () => {
    const [a, b] = await Promise.all([start("s1", creds.bundle("s1")), start("s2", creds.bundle("s2"))]);
    await Promise.all([a.waitForLine(isReady, 30_000), b.waitForLine(isReady, 30_000)]);
    const ctl = (...args: string[]) => runDcnet(["ctl", "--nats", server.url, "--creds", creds.bundle("ops"), ...args]);
    expect((await ctl("--node", "s1", "state", "set", "demo/k", "f", '"v"')).code).toBe(0);
    let members = "";
    let value = "";
    for (let i = 0; i < 50 && !(/s1\s+alive/.test(members) && value.includes('"v"')); i++) {
      members = (await ctl("--node", "s2", "members")).stdout;
      value = (await ctl("--node", "s2", "state", "get", "demo/k")).stdout;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(members).toMatch(/s1\s+alive/);
    expect(value).toContain('"v"');
    const logs = text([...a.lines(), ...b.lines()]);
    expect(logs).not.toMatch(/Permissions Violation/);
    expectNoSecrets(logs + a.stderr() + b.stderr(), [creds.bundle("s1"), creds.bundle("s2")]);
  }, 60_000);

  it("refuses another node's credential and an expired one: exit 2, naming the problem", async () => {
    const wrong = await runDcnet(["node", "--nats", server.url, "--cluster", "sec", "--id", "s3", "--creds", creds.bundle("s1")], { DCNET_NATS_INSECURE: "" });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`is for node "s1" of cluster "sec"; this node's id is "s3"`);
    const expired = await runDcnet(["node", "--nats", server.url, "--cluster", "sec", "--id", "old", "--creds", await expiredBundle(creds, "old", "node")], { DCNET_NATS_INSECURE: "" });
    expect(expired.code).toBe(2);
    expect(expired.stderr).toContain("expired on 2020-01-02T00:00:00.000Z");
  }, 30_000);
});

describe("dcnet creds", () => {
  const dir = mkdtempSync(join(tmpdir(), "dcnet-creds-cli-"));
  const creds = (...args: string[]) => runDcnet(["creds", ...args, "--dir", join(dir, "c")]);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("init, server, node, user, ls, revoke, nats-conf: files 0600, nothing secret printed, refusals exit 2", async () => {
    expect((await creds("init", "--cluster", "prod")).code).toBe(0);
    const server = await creds("server", "nats-1", "--ip", "10.0.0.1", "--dns", "nats-1.example.com");
    expect(server.stdout).toContain("server nats-1 of cluster prod, serial ");
    const node = await creds("node", "agent-1", "--days", "30");
    expect(node.stdout).toMatch(/agent-1\.pem: node agent-1 of cluster prod, serial [0-9a-f]{16}, valid until /);
    expect(node.stdout).toContain("nats-auth.conf: copy it to every nats-server and reload them");
    expect((await creds("user", "alice", "--role", "viewer")).code).toBe(0);
    const ls = await creds("ls");
    expect(ls.stdout.split("\n").filter((l) => l.startsWith("  "))).toHaveLength(3);
    for (const f of readdirSync(join(dir, "c"))) expect([f, mode(join(dir, "c", f))]).toEqual([f, "600"]);
    const all = [server, node, ls].map((r) => r.stdout + r.stderr).join("\n");
    expectNoSecrets(all, ["ca.key", "nats-1.key", "agent-1.pem", "alice.pem"].map((f) => join(dir, "c", f)));
    const revoked = await creds("revoke", "alice");
    expect(revoked.stdout).toContain("revoked viewer alice serial ");
    const conf = await creds("nats-conf", "--print");
    expect(conf.stdout).toContain("CN=agent-1,OU=node,O=dcnet-prod");
    expect(conf.stdout).not.toContain("CN=alice,");
    expect(conf.stdout).toContain("# revoked: alice serial ");
    for (const [args, message] of [
      [["init", "--cluster", "prod"], "already has a CA"],
      [["user", "agent-1", "--role", "admin"], '"agent-1" is already a node'],
      [["revoke", "nobody"], 'no live certificate of "nobody"'],
      [["node", "bad.id"], "does not match"],
    ] as const) {
      const r = await creds(...args);
      expect([args.join(" "), r.code, r.stderr]).toEqual([args.join(" "), 2, expect.stringContaining(message)]);
    }
  }, 30_000);
});
