// Reference authoritative servers for the DNS benches: NSD and Knot (Debian nsd, knot) serving a
// zone file on 127.0.0.1:<port>, one worker each (as unbound's num-threads 1 and dcnet's one Node.js
// thread), config and state in a temp dir removed by stop().
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSocket } from "node:dgram";
import * as dnsPacket from "dns-packet";
import { nsdConfig } from "../integration/support/nsd-config.js";

export interface RefServer {
  readonly name: string;
  readonly port: number;
  stop(): Promise<void>;
}

function knotConfig(dir: string, port: number, zone: string): string {
  return [
    "server:",
    `  listen: 127.0.0.1@${port}`,
    `  rundir: "${dir}"`,
    "  udp-workers: 1",
    "  tcp-workers: 1",
    "  background-workers: 1",
    "control:",
    `  listen: "${dir}/knot.sock"`,
    "log:",
    "  - target: stderr",
    "    any: error",
    "database:",
    `  storage: "${dir}"`,
    "zone:",
    `  - domain: ${zone}`,
    `    storage: "${dir}"`,
    "    file: zone",
    "    zonefile-sync: -1",
    "    journal-content: none",
    "",
  ].join("\n");
}

/** Starts `kind` serving `zoneText` (a zone file) for `zone`, and waits until it answers the zone's SOA. */
export async function startRef(kind: "nsd" | "knot", zone: string, zoneText: string, port: number): Promise<RefServer> {
  const dir = mkdtempSync(join(tmpdir(), `dcnet-${kind}-`));
  writeFileSync(join(dir, "zone"), zoneText.endsWith("\n") ? zoneText : `${zoneText}\n`);
  const conf = join(dir, `${kind}.conf`);
  writeFileSync(conf, kind === "nsd" ? nsdConfig({ dir, addresses: ["127.0.0.1"], port, zone }) : knotConfig(dir, port, zone));
  const child: ChildProcess = kind === "nsd" ? spawn("/usr/sbin/nsd", ["-d", "-c", conf], { stdio: ["ignore", "ignore", "pipe"] }) : spawn("/usr/sbin/knotd", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, "SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const reply = await ask(port, zone, "SOA", 300);
    if (reply?.rcode === "NOERROR" && reply.answers.length === 1) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${kind} did not serve ${zone} on 127.0.0.1:${port}: ${err.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name: kind, port, stop };
}

export interface Answer {
  readonly rcode: string;
  /** `name type data`, lower case, sorted: what two servers must agree on (TTLs aside). */
  readonly answers: readonly string[];
}

function rdata(a: dnsPacket.Answer): string {
  const d = (a as { data?: unknown }).data;
  if (a.type === "SRV") {
    const s = d as dnsPacket.SrvData;
    return `${s.priority ?? 0} ${s.weight ?? 0} ${s.port} ${s.target.toLowerCase()}`;
  }
  if (a.type === "SOA") {
    const s = d as dnsPacket.SoaData;
    return `${s.mname} ${s.rname}`.toLowerCase();
  }
  return String(d).toLowerCase();
}

/** One UDP query (no EDNS, RD off) to 127.0.0.1:port; undefined without an answer in `timeoutMs`. */
export function ask(port: number, name: string, type: string, timeoutMs = 1000): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket("udp4");
    const timer = setTimeout(() => done(undefined), timeoutMs);
    function done(r: Answer | undefined): void {
      clearTimeout(timer);
      sock.close();
      resolve(r);
    }
    sock.on("error", () => done(undefined));
    sock.on("message", (m: Buffer) => {
      const p = dnsPacket.decode(m) as dnsPacket.DecodedPacket & { rcode?: string };
      done({ rcode: p.rcode ?? "NOERROR", answers: (p.answers ?? []).map((a) => `${a.name.toLowerCase().replace(/\.$/, "")} ${a.type} ${rdata(a)}`).sort() });
    });
    sock.send(dnsPacket.encode({ type: "query", id: Math.floor(Math.random() * 65535), questions: [{ type: type as dnsPacket.RecordType, name }] }), port, "127.0.0.1");
  });
}
