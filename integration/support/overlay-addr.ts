// Small helpers the overlay tests and bench share: an address inside a node's claimed subnet, and a
// command run in a namespace with its output (the harness's NODE_OPTIONS left out, so a Node.js
// client in a container namespace starts plain).
import { execFile } from "node:child_process";
import { formatIp, parseIp } from "../../config/ip.js";

/** The subnet's network address plus `n`: `9.77.3.0/24`, 10 → `9.77.3.10` (IPv6 alike). */
export function hostAddr(subnet: string, n: number): string {
  const ip = parseIp(subnet.split("/")[0] ?? "");
  return ip ? formatIp(ip.family, ip.value + BigInt(n)) : "";
}

/** stdout of `file args` run inside network namespace `ns`; rejects with its stderr. */
export function execIn(ns: string, file: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("ip", ["netns", "exec", ns, file, ...args], { timeout: timeoutMs, env: { ...process.env, NODE_OPTIONS: "" } }, (err, stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(" ")} in ${ns}: ${stderr || err.message}`)) : resolve(stdout))),
  );
}
