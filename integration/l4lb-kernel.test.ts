// The L4LB renderer and its kernel runners against the real nft and conntrack, with real TCP and
// UDP traffic, in network namespaces (issue 12 points 1, 2, 5, 6; dataplane.md §3–6).
//
// Address plan (nothing leaves the lab's namespaces):
//   hosts h1..h3      10.77.0.N/24, fd00:77::N/64 on the lab bridge; routes 11.0.0.0/8, fd01:c::/64 on eth0
//   containers c1, c2 9.0.N.2/24 on bridge cbr0 (9.0.N.1, hairpin on) of h1, h2; h1 ⇄ h2 route 9.0.N.0/24
//   IP VIPs           11.0.0.10–14, fd01:c::10; named VIP /app:80@marathon at 11.0.1.1
//   servers           c1, c2: tcp 80, 7000, udp 53; h2, h3 (host network): tcp 8080, 7000, udp 5353
// Every host gets the table its own desiredState renders (its localIps differ, so its hairpin set).
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Backend, DesiredState } from "../actors/l4lb/model.js";
import { L4LB_TABLE } from "../actors/l4lb/model.js";
import {
  compareKernel, conntrackFlush, conntrackFlushes, desiredState, nftApply, nftListTable, NftRejectedError, parseKernel,
  renderCleanup, renderDelta, renderFull, type ObservedKernel, type RenderOptions,
} from "../actors/l4lb/index.js";
import { createNetnsLab, type NetnsLab } from "./harness/netns.js";
import { mustRun, waitFor } from "./harness/shell.js";

jest.setTimeout(60_000);

const HOSTS = ["h1", "h2", "h3"] as const;
type Host = (typeof HOSTS)[number];
const N: Record<Host, number> = { h1: 1, h2: 2, h3: 3 };
const OPTS: RenderOptions = { table: L4LB_TABLE, selection: "random", maxBackends: 8 };

// One server per namespace: on every TCP port it greets with its name, then echoes lines with its
// name; on every UDP port it answers its name. Dual-stack; bounded lifetime.
const SERVER = `
const net = require("net"), dgram = require("dgram");
const [name, tcp, udp] = process.argv.slice(1);
for (const p of tcp.split(",")) net.createServer((s) => { s.on("error", () => {}); s.write(name + "\\n");
  s.on("data", (d) => s.write(name + " " + d.toString().trim() + "\\n")); }).listen({ port: +p, host: "::", ipv6Only: false });
for (const p of udp.split(",")) { const u = dgram.createSocket({ type: "udp6", ipv6Only: false });
  u.on("message", (m, r) => u.send(name, r.port, r.address)); u.bind(+p, "::"); }
setTimeout(() => process.exit(0), 180000);
`;

// Client: tcp|udp HOST PORT COUNT [SRCPORT] → JSON { tally: {name: n}, errors: {code: n}, ms } (ms of the last try);
// hold HOST PORT → greets, then one request per stdin line, prints every reply line.
const CLIENT = `
const net = require("net"), dgram = require("dgram");
const [mode, host, port, count, src] = process.argv.slice(1);
const add = (o, k) => { o[k] = (o[k] || 0) + 1; };
const tcpOnce = () => new Promise((res) => { const t0 = Date.now(); let buf = "";
  const s = net.connect({ host, port: +port });
  const t = setTimeout(() => { s.destroy(); res({ err: "timeout", ms: Date.now() - t0 }); }, 2000);
  s.on("data", (d) => { buf += d; if (buf.includes("\\n")) { clearTimeout(t); s.destroy(); res({ name: buf.split("\\n")[0], ms: Date.now() - t0 }); } });
  s.on("error", (e) => { clearTimeout(t); res({ err: e.code || e.message, ms: Date.now() - t0 }); }); });
const udpOnce = () => new Promise((res) => { const t0 = Date.now();
  const s = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  const done = (r) => { clearTimeout(t); try { s.close(); } catch {} res({ ...r, ms: Date.now() - t0 }); };
  const t = setTimeout(() => done({ err: "timeout" }), 1500);
  s.on("error", (e) => done({ err: e.code || e.message }));
  s.on("message", (m) => done({ name: m.toString() }));
  const go = () => s.connect(+port, host, () => s.send("q"));
  if (src) s.bind(+src, go); else go(); });
if (mode === "hold") {
  const s = net.connect({ host, port: +port }); let buf = "";
  s.on("data", (d) => { buf += d; let i; while ((i = buf.indexOf("\\n")) >= 0) { console.log(buf.slice(0, i)); buf = buf.slice(i + 1); } });
  s.on("error", (e) => { console.log("ERROR " + (e.code || e.message)); process.exit(1); });
  s.on("close", () => { console.log("CLOSED"); process.exit(0); });
  process.stdin.on("data", (d) => s.write(d)); process.stdin.on("end", () => s.end());
  setTimeout(() => process.exit(2), 30000);
} else (async () => {
  const tally = {}, errors = {}; let last = { ms: 0 }; const deadline = Date.now() + 20000;
  for (let i = 0; i < +count && Date.now() < deadline; i++) {
    last = mode === "tcp" ? await tcpOnce() : await udpOnce();
    if (last.name) add(tally, last.name); else add(errors, last.err);
  }
  console.log(JSON.stringify({ tally, errors, ms: last.ms }));
})();
`;

interface Tally {
  tally: Record<string, number>;
  errors: Record<string, number>;
  ms: number;
}

const b = (owner: Host, ip: string, port: number, weight: 0 | 1 = 1): Backend => ({
  owner, taskId: `task-${ip}-${port}`, agentIp: `10.77.0.${N[owner]}`, ip, port, weight,
});

/** The catalogue's VIP table this test starts from. */
function baseTable(): Map<string, Backend[]> {
  return new Map([
    ["tcp:11.0.0.10:80", [b("h1", "9.0.1.2", 80), b("h2", "9.0.2.2", 80), b("h3", "10.77.0.3", 8080)]],
    ["udp:11.0.0.10:53", [b("h2", "9.0.2.2", 53), b("h3", "10.77.0.3", 5353)]],
    ["tcp:11.0.0.11:80", [b("h1", "9.0.1.2", 80)]],
    ["tcp:11.0.0.12:7000", [b("h2", "9.0.2.2", 7000), b("h3", "10.77.0.3", 7000)]],
    ["udp:11.0.0.13:53", [b("h2", "9.0.2.2", 53), b("h3", "10.77.0.3", 5353)]],
    ["tcp:11.0.0.14:80", [b("h2", "9.0.2.2", 80, 0)]],
    ["udp:11.0.0.14:53", [b("h2", "9.0.2.2", 53, 0)]],
    ["tcp:[fd01:c::10]:80", [b("h2", "fd00:77::2", 8080), b("h3", "fd00:77::3", 8080)]],
    ["tcp:/app:80@marathon", [b("h2", "9.0.2.2", 80)]],
  ]);
}

/** `name` (c2) or `name` of the other backend of a two-backend VIP (c2 ⇄ h3). */
const other = (name: string): string => (name === "c2" ? "h3" : "c2");
/** Backend a server name stands for on VIPs 11.0.0.12/13. */
const owner = (name: string): Host => (name === "c2" ? "h2" : "h3");

describe("L4LB kernel: renderer + nft + conntrack in a 3-host netns lab", () => {
  let lab: NetnsLab;
  const applied = new Map<Host, DesiredState>();
  let table = baseTable();

  const nft = (h: string): string[] => ["ip", "netns", "exec", lab.ns(h), "nft"];
  const desiredFor = (h: Host, t = table) =>
    desiredState({
      table: t,
      addresses: new Map([["v4:app.marathon", "11.0.1.1"]]),
      deadNodes: new Set(),
      localIps: new Set([`10.77.0.${N[h]}`, `fd00:77::${N[h]}`]),
      forbidden: ["9.0.0.0/8", "44.128.0.0/20"],
      maxBackends: OPTS.maxBackends,
      ipv6: true,
    });

  const client = async (from: string, ...args: string[]): Promise<Tally> => {
    const r = await lab.exec(from, process.execPath, ["-e", CLIENT, ...args], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`client in ${from} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Tally;
  };

  const readBack = async (h: Host): Promise<{ ip?: ObservedKernel; ip6?: ObservedKernel }> => {
    const out: { ip?: ObservedKernel; ip6?: ObservedKernel } = {};
    for (const f of ["ip", "ip6"] as const) {
      const json = await nftListTable(f, L4LB_TABLE, { command: nft(h) });
      if (json === undefined) continue;
      const o = parseKernel(json);
      if ("problem" in o) throw new Error(o.problem);
      out[f] = o;
    }
    return out;
  };

  /** New table everywhere: renderDelta per host, applied, read back with zero drift. */
  const change = async (next: Map<string, Backend[]>): Promise<Map<Host, DesiredState>> => {
    const before = new Map(applied);
    table = next;
    for (const h of HOSTS) {
      const want = desiredFor(h).state;
      const delta = renderDelta(applied.get(h) as DesiredState, want, OPTS);
      await nftApply(delta.text, { command: nft(h) });
      applied.set(h, want);
    }
    expect(compareKernel(await readBack("h1"), applied.get("h1") as DesiredState, OPTS)).toMatchObject({ drift: 0, full: false });
    return before;
  };

  beforeAll(async () => {
    const t0 = Date.now();
    lab = await createNetnsLab({ hosts: { h1: "10.77.0.1/24", h2: "10.77.0.2/24", h3: "10.77.0.3/24" } });
    for (const h of HOSTS) {
      const n = N[h];
      const ns = lab.ns(h);
      await mustRun("ip", ["netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]);
      await mustRun("ip", ["-n", ns, "addr", "add", `fd00:77::${n}/64`, "dev", "eth0", "nodad"]);
      await mustRun("ip", ["-n", ns, "route", "add", "11.0.0.0/8", "dev", "eth0"]);
      await mustRun("ip", ["-n", ns, "-6", "route", "add", "fd01:c::/64", "dev", "eth0"]);
    }
    for (const n of [1, 2]) {
      const hn = lab.ns(`h${n}`);
      const cn = lab.ns(`c${n}`); // under the lab's prefix: cleanup() deletes it with the rest
      await mustRun("ip", ["netns", "add", cn]);
      await mustRun("ip", ["-n", hn, "link", "add", "cbr0", "type", "bridge"]);
      await mustRun("ip", ["-n", hn, "addr", "add", `9.0.${n}.1/24`, "dev", "cbr0"]);
      await mustRun("ip", ["-n", hn, "link", "set", "cbr0", "up"]);
      await mustRun("ip", ["-n", hn, "link", "add", "vc", "type", "veth", "peer", "name", "eth0", "netns", cn]);
      await mustRun("ip", ["-n", hn, "link", "set", "vc", "master", "cbr0", "up"]);
      // What CNI hairpinMode:true sets: a backend reaching its own VIP comes back out of its own port.
      await mustRun("ip", ["-n", hn, "link", "set", "vc", "type", "bridge_slave", "hairpin", "on"]);
      await mustRun("ip", ["-n", cn, "link", "set", "lo", "up"]);
      await mustRun("ip", ["-n", cn, "addr", "add", `9.0.${n}.2/24`, "dev", "eth0"]);
      await mustRun("ip", ["-n", cn, "link", "set", "eth0", "up"]);
      await mustRun("ip", ["-n", cn, "route", "add", "default", "via", `9.0.${n}.1`]);
    }
    await mustRun("ip", ["-n", lab.ns("h1"), "route", "add", "9.0.2.0/24", "via", "10.77.0.2"]);
    await mustRun("ip", ["-n", lab.ns("h2"), "route", "add", "9.0.1.0/24", "via", "10.77.0.1"]);
    await mustRun("ip", ["-n", lab.ns("h3"), "route", "add", "9.0.1.0/24", "via", "10.77.0.1"]);
    await mustRun("ip", ["-n", lab.ns("h3"), "route", "add", "9.0.2.0/24", "via", "10.77.0.2"]);
    lab.run("c1", process.execPath, ["-e", SERVER, "c1", "80,7000", "53"]);
    lab.run("c2", process.execPath, ["-e", SERVER, "c2", "80,7000", "53"]);
    lab.run("h2", process.execPath, ["-e", SERVER, "h2", "8080", "5353"]);
    lab.run("h3", process.execPath, ["-e", SERVER, "h3", "8080,7000", "5353"]);
    for (const [where, port, name] of [["c1", "80", "c1"], ["c2", "7000", "c2"], ["h2", "8080", "h2"], ["h3", "7000", "h3"]] as const) {
      await waitFor(`server ${name}`, 15_000, async () => ((await client(where, "tcp", "127.0.0.1", port, "1")).tally[name] ? true : undefined), 100);
    }
    for (const h of HOSTS) {
      const s = desiredFor(h).state;
      await nftApply(renderFull(s, OPTS), { command: nft(h) });
      applied.set(h, s);
    }
    console.log(`l4lb lab: 3 hosts, 2 containers, 4 servers, tables loaded in ${Date.now() - t0} ms`);
  });

  afterAll(async () => {
    await lab?.cleanup();
  });

  test("every host's table reads back with zero drift", async () => {
    for (const h of HOSTS) {
      expect(compareKernel(await readBack(h), applied.get(h) as DesiredState, OPTS)).toEqual({ drift: 0, repair: "", full: false, reasons: [] });
    }
    // The hairpin set is per node: h1 holds its own container, h2 its own.
    expect([...(applied.get("h1") as DesiredState).hairpin.ip]).toEqual(["9.0.1.2"]);
    expect([...(applied.get("h2") as DesiredState).hairpin.ip]).toEqual(["9.0.2.2"]);
    expect([...(applied.get("h2") as DesiredState).hairpin.ip6]).toEqual(["fd00:77::2"]);
  });

  test("TCP to an IP VIP reaches every backend, from a host process (OUTPUT) and from a container (PREROUTING)", async () => {
    for (const from of ["h1", "c1"]) {
      const r = await client(from, "tcp", "11.0.0.10", "80", "40");
      expect({ from, errors: r.errors }).toEqual({ from, errors: {} });
      expect(Object.keys(r.tally).sort()).toEqual(["c1", "c2", "h3"]);
    }
  });

  test("UDP to an IP VIP reaches every backend, from a host process and from a container", async () => {
    for (const from of ["h1", "c1"]) {
      const r = await client(from, "udp", "11.0.0.10", "53", "30");
      expect({ from, errors: r.errors }).toEqual({ from, errors: {} });
      expect(Object.keys(r.tally).sort()).toEqual(["c2", "h3"]);
    }
  });

  test("hairpin: a backend reaching its own VIP gets itself", async () => {
    expect(await client("c1", "tcp", "11.0.0.11", "80", "5")).toMatchObject({ tally: { c1: 5 }, errors: {} });
  });

  test("a named VIP's address works like an IP VIP", async () => {
    expect(await client("h3", "tcp", "11.0.1.1", "80", "3")).toMatchObject({ tally: { c2: 3 }, errors: {} });
  });

  test("IPv6: a v6 VIP reaches its host-network backends", async () => {
    const r = await client("h1", "tcp", "fd01:c::10", "80", "30");
    expect(r.errors).toEqual({});
    expect(Object.keys(r.tally).sort()).toEqual(["h2", "h3"]);
  });

  test("a VIP with backends but none serving refuses at once (TCP reset, ICMP port unreachable), from a host and a container", async () => {
    for (const from of ["h1", "c1"]) {
      const tcp = await client(from, "tcp", "11.0.0.14", "80", "1");
      expect({ from, tcp: tcp.errors }).toEqual({ from, tcp: { ECONNREFUSED: 1 } });
      expect(tcp.ms).toBeLessThan(1000);
      const udp = await client(from, "udp", "11.0.0.14", "53", "1");
      expect({ from, udp: udp.errors }).toEqual({ from, udp: { ECONNREFUSED: 1 } });
    }
  });

  test("drain: an established TCP connection stays on its backend, new ones go to the other", async () => {
    const hold: ChildProcess = lab.run("h1", process.execPath, ["-e", CLIENT, "hold", "11.0.0.12", "7000"], { stdio: ["pipe", "pipe", "inherit"] });
    const rl = createInterface({ input: hold.stdout as NodeJS.ReadableStream });
    const lines = rl[Symbol.asyncIterator]();
    const next = async (): Promise<string> => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error("no line from the held connection in 5 s")), 5000)));
      try {
        const r = await Promise.race([lines.next(), late]);
        return r.done ? "EOF" : String(r.value);
      } finally {
        clearTimeout(timer);
      }
    };
    try {
      const first = await next();
      expect(["c2", "h3"]).toContain(first);
      const t = new Map(table);
      t.set("tcp:11.0.0.12:7000", (t.get("tcp:11.0.0.12:7000") ?? []).map((x) => (x.owner === owner(first) ? { ...x, weight: 0 as const } : x)));
      const before = await change(t);
      // TCP: a draining backend's entries are kept.
      expect(conntrackFlushes(before.get("h1") as DesiredState, applied.get("h1") as DesiredState)).toEqual([]);
      hold.stdin?.write("still-there\n");
      expect(await next()).toBe(`${first} still-there`);
      const fresh = await client("h1", "tcp", "11.0.0.12", "7000", "15");
      expect(fresh).toEqual({ tally: { [other(first)]: 15 }, errors: {}, ms: expect.any(Number) });
      hold.stdin?.write("after-new-ones\n");
      expect(await next()).toBe(`${first} after-new-ones`);
    } finally {
      rl.close();
      hold.stdin?.end();
      hold.kill();
    }
  });

  test("conntrackFlush moves a fixed-source-port UDP flow to the other backend", async () => {
    const first = await client("h1", "udp", "11.0.0.13", "53", "1", "40000");
    const was = Object.keys(first.tally)[0] ?? "";
    expect(["c2", "h3"]).toContain(was);
    const t = new Map(table);
    t.set("udp:11.0.0.13:53", (t.get("udp:11.0.0.13:53") ?? []).map((x) => (x.owner === owner(was) ? { ...x, weight: 0 as const } : x)));
    const before = await change(t);
    // The map no longer offers it, but the flow's conntrack entry still does.
    expect((await client("h1", "udp", "11.0.0.13", "53", "1", "40000")).tally).toEqual({ [was]: 1 });
    const plan = conntrackFlushes(before.get("h1") as DesiredState, applied.get("h1") as DesiredState);
    expect(plan).toEqual([{ family: "ip", protocol: "udp", vip: "11.0.0.13", vport: 53, backend: expect.objectContaining({ ip: was === "c2" ? "9.0.2.2" : "10.77.0.3" }) }]);
    const r = await conntrackFlush(plan, { command: ["ip", "netns", "exec", lab.ns("h1"), "conntrack"] });
    expect(r).toEqual({ deleted: 1, failed: 0, errors: [] });
    expect((await client("h1", "udp", "11.0.0.13", "53", "1", "40000")).tally).toEqual({ [other(was)]: 1 });
    // Nothing left to delete is not a failure.
    expect(await conntrackFlush(plan, { command: ["ip", "netns", "exec", lab.ns("h1"), "conntrack"] })).toEqual({ deleted: 0, failed: 0, errors: [] });
  });

  test("drift: an element deleted by hand is found and repaired with element ops; a flushed chain with a full reload", async () => {
    const want = applied.get("h1") as DesiredState;
    await mustRun("ip", ["netns", "exec", lab.ns("h1"), "nft", "delete element ip dcnet-l4lb backends { 11.0.0.10 . tcp . 80 . 0 }"]);
    const cmp = compareKernel(await readBack("h1"), want, OPTS);
    expect(cmp).toMatchObject({ drift: 1, full: false });
    expect(cmp.repair).toMatch(/^add element ip dcnet-l4lb backends \{ 11\.0\.0\.10 \. tcp \. 80 \. 0 : /);
    await nftApply(cmp.repair, { command: nft("h1") });
    expect(compareKernel(await readBack("h1"), want, OPTS)).toMatchObject({ drift: 0, full: false });

    await mustRun("ip", ["netns", "exec", lab.ns("h1"), "nft", "flush chain ip dcnet-l4lb postrouting"]);
    const broken = compareKernel(await readBack("h1"), want, OPTS);
    expect(broken).toMatchObject({ full: true, reasons: [expect.stringContaining("chains or rules differ")] });
    await nftApply(broken.repair, { command: nft("h1") });
    expect(compareKernel(await readBack("h1"), want, OPTS)).toMatchObject({ drift: 0, full: false });
    expect(await client("c1", "tcp", "11.0.0.11", "80", "2")).toMatchObject({ tally: { c1: 2 } }); // hairpin works again
  });

  test("DCOS_OSS-4970: a port-mapping DNAT on the VIP's port in another table does not take VIP traffic", async () => {
    // Like a port mapping that matches any destination: tcp dport 80 → h3:8080, at the usual NAT
    // priority, registered after ours. The first chain that DNATs a new connection wins, and at equal
    // priority the chain registered last runs first: only a lower priority keeps VIPs ours.
    await nftApply("table ip portmap-sim {\n chain out { type nat hook output priority -100; policy accept; tcp dport 80 dnat ip to 10.77.0.3:8080; }\n}\n", { command: nft("h1") });
    try {
      expect(await client("h1", "tcp", "11.0.0.11", "80", "5")).toMatchObject({ tally: { c1: 5 }, errors: {} });
      expect(await client("h1", "tcp", "10.77.0.2", "80", "1")).toMatchObject({ tally: { h3: 1 } }); // the mapping itself works
    } finally {
      await nftApply("delete table ip portmap-sim\n", { command: nft("h1") });
    }
  });

  test("a refused transaction changes nothing and says why; cleanup removes both tables, also twice", async () => {
    const err = await nftApply("add element ip dcnet-l4lb vips { 11.0.0.10 . tcp . 80 : goto nb-99 }\n", { command: nft("h1") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftRejectedError);
    expect((err as Error).message).toMatch(/nb-99/);
    expect(compareKernel(await readBack("h1"), applied.get("h1") as DesiredState, OPTS).drift).toBe(0);
    for (let i = 0; i < 2; i++) await nftApply(renderCleanup(OPTS), { command: nft("h3") });
    expect(await nftListTable("ip", L4LB_TABLE, { command: nft("h3") })).toBeUndefined();
    expect(await nftListTable("ip6", L4LB_TABLE, { command: nft("h3") })).toBeUndefined();
  });
});
