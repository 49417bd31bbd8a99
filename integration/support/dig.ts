// Queries a DNS server the way users do, with `dig` and `kdig`, and reads their text output.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface DigResult {
  readonly status: string;
  readonly flags: readonly string[];
  readonly answer: readonly DigRecord[];
  readonly authority: readonly DigRecord[];
  readonly additional: readonly DigRecord[];
  /** The reply carried an OPT record (EDNS0), and the UDP size it announced. */
  readonly opt?: { readonly udp: number };
  /** dig saw TC over UDP and asked again over TCP. */
  readonly retriedTcp: boolean;
  readonly raw: string;
}

export interface DigRecord {
  readonly name: string;
  readonly ttl: number;
  readonly type: string;
  readonly data: string;
}

function parseRecord(line: string): DigRecord | undefined {
  const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.*)$/.exec(line.trim());
  return m ? { name: m[1] as string, ttl: Number(m[2]), type: m[3] as string, data: (m[4] as string).trim() } : undefined;
}

export function parseDig(out: string): DigResult {
  const status = /status: ([A-Z]+)/.exec(out)?.[1] ?? "NONE";
  const flags = (/;; flags: ([a-z ]*);/.exec(out)?.[1] ?? "").trim().split(/\s+/).filter(Boolean);
  const sections: Record<string, DigRecord[]> = { ANSWER: [], AUTHORITY: [], ADDITIONAL: [] };
  let current: string | undefined;
  for (const line of out.split("\n")) {
    const header = /^;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:/.exec(line);
    if (header) {
      current = header[1];
      continue;
    }
    if (line.trim() === "" || line.startsWith(";")) {
      if (line.trim() === "") current = undefined;
      continue;
    }
    const r = current ? parseRecord(line) : undefined;
    if (r && current) sections[current]?.push(r);
  }
  const udp = /; EDNS: version: \d+, flags:[^;]*; udp: (\d+)/.exec(out)?.[1];
  return {
    status,
    flags,
    answer: sections.ANSWER ?? [],
    authority: sections.AUTHORITY ?? [],
    additional: sections.ADDITIONAL ?? [],
    ...(udp ? { opt: { udp: Number(udp) } } : {}),
    retriedTcp: out.includes("Truncated, retrying in TCP mode"),
    raw: out,
  };
}

/** `dig @host -p port <args>`; one try, short timeout, so a wrong answer fails fast. */
export async function dig(server: { host: string; port: number }, args: readonly string[]): Promise<DigResult> {
  const { stdout } = await run("dig", [`@${server.host}`, "-p", String(server.port), "+tries=1", "+time=3", ...args], { timeout: 15_000 });
  return parseDig(stdout);
}

/** `kdig` (Knot) prints the same sections; used for TCP and EDNS checks with a second client. */
export async function kdig(server: { host: string; port: number }, args: readonly string[]): Promise<DigResult> {
  const { stdout } = await run("kdig", [`@${server.host}`, "-p", String(server.port), "+retry=0", "+time=3", ...args], { timeout: 15_000 });
  return parseKdig(stdout);
}

/** kdig's layout: ";; ->>HEADER<<- opcode: QUERY; status: NOERROR; id: 1", ";; Flags: qr aa rd; ...", ";; ANSWER SECTION:". */
export function parseKdig(out: string): DigResult {
  const status = /status: ([A-Z]+)/.exec(out)?.[1] ?? "NONE";
  const flags = (/;; Flags: ([a-z ]*);/.exec(out)?.[1] ?? "").trim().split(/\s+/).filter(Boolean);
  const base = parseDig(out.replace(/;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:/g, ";; $1 SECTION:"));
  const udp = /;; Version: \d+; flags:[^;]*; UDP size: (\d+) B/.exec(out)?.[1];
  const { opt: _ignored, ...rest } = base;
  return { ...rest, status, flags, ...(udp ? { opt: { udp: Number(udp) } } : {}) };
}
