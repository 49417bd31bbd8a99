// Zonemaster (Debian zonemaster-cli) against servers inside a network namespace that has only its
// loopback: fake parent zones served by NSD, the resolver's root hints pointing at them, so every
// query Zonemaster sends stays on 127.0.0.0/8 of that namespace — nothing can reach a real server.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NetnsLab } from "../harness/netns.js";
import { waitFor } from "../harness/shell.js";
import { nsdConfig } from "./nsd-config.js";

/** The namespace of a `createNetnsLab({ hosts: {} })` lab: lo up, a bridge without address or ports. */
export const HOST = "bridge";

export interface Finding {
  readonly level: "DEBUG" | "INFO" | "NOTICE" | "WARNING" | "ERROR" | "CRITICAL";
  readonly testcase: string;
  readonly tag: string;
  readonly args: Readonly<Record<string, unknown>>;
}

/**
 * Starts NSD in the lab, answering `zone` (zone-file text) on port 53 of each of `ips`. Config and
 * state stay in `dir`; the process is the lab's, so lab.cleanup() ends it.
 */
export async function startNsd(lab: NetnsLab, dir: string, ips: readonly string[], zone: { readonly name: string; readonly text: string }): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "zone"), zone.text.endsWith("\n") ? zone.text : `${zone.text}\n`);
  writeFileSync(join(dir, "nsd.conf"), nsdConfig({ dir, addresses: ips, port: 53, zone: zone.name }));
  lab.run(HOST, "nsd", ["-d", "-c", join(dir, "nsd.conf")], { stdio: "ignore" });
  for (const ip of ips) await waitForSoa(lab, ip, zone.name, 10_000);
}

/** Waits until `ip` answers `name SOA` authoritatively (a server that is up and has loaded the zone). */
export async function waitForSoa(lab: NetnsLab, ip: string, name: string, timeoutMs: number): Promise<void> {
  await waitFor(`${ip} serving ${name} SOA`, timeoutMs, async () => {
    const r = await lab.exec(HOST, "dig", ["+norec", "+time=1", "+tries=1", `@${ip}`, name, "SOA"], { timeoutMs: 3000 });
    return / status: NOERROR/.test(r.stdout) && /flags: qr aa/.test(r.stdout) ? true : undefined;
  }, 100);
}

/** A root hints file naming one root server. */
export function writeHints(path: string, rootIp: string): void {
  writeFileSync(path, `.\t3600000\tNS\tns.root.\nns.root.\t3600000\tA\t${rootIp}\n`);
}

/**
 * Every Zonemaster test module on `zone`, IPv4 only (the namespace has no IPv6 address but ::1, and
 * Zonemaster would report every v6 attempt as unreachable), findings from INFO up.
 */
export async function runZonemaster(lab: NetnsLab, hints: string, zone: string): Promise<Finding[]> {
  const r = await lab.exec(HOST, "zonemaster-cli", ["--no-ipv6", "--hints", hints, "--level", "INFO", "--json", "--raw", "--no-progress", zone], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`zonemaster-cli exited ${r.code}: ${r.stderr.trim().slice(-500)}`);
  return JSON.parse(r.stdout) as Finding[];
}

/** ERROR and CRITICAL findings. */
export function errors(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.level === "ERROR" || f.level === "CRITICAL");
}

/** `TESTCASE TAG LEVEL` of every finding at `min` or above, sorted and unique: what two runs compare. */
export function summary(findings: readonly Finding[], min: Finding["level"] = "WARNING"): string[] {
  const order: readonly Finding["level"][] = ["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"];
  const at = order.indexOf(min);
  return [...new Set(findings.filter((f) => order.indexOf(f.level) >= at).map((f) => `${f.testcase} ${f.tag} ${f.level}`))].sort();
}
