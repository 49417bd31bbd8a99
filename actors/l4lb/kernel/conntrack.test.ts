import { describe, it, expect } from "@jest/globals";
import type { CtFlush } from "../render/conntrack-plan.js";
import { conntrackArgs, conntrackFlush } from "./conntrack.js";

// No kernel here: `sh -c SCRIPT conntrack` stands in for conntrack and answers as conntrack 1.4.7
// does (the count on stderr; exit 1 when it deleted nothing). The real one runs in
// integration/l4lb-kernel.test.ts.
const fake = (script: string, more: object = {}) => ({ command: ["sh", "-c", script, "conntrack"], ...more });
const udp: CtFlush = { family: "ip", protocol: "udp", vip: "11.0.0.13", vport: 53, backend: { ip: "9.0.2.2", port: 5353 } };
const tcp6: CtFlush = { family: "ip6", protocol: "tcp", vip: "fd01:c::10", vport: 80, backend: { ip: "fd00:77::2", port: 8080 } };

describe("conntrackFlush", () => {
  it("deletes by original destination and reply source, per family and protocol", () => {
    expect(conntrackArgs(udp)).toEqual(["-D", "-f", "ipv4", "-p", "udp", "--orig-dst", "11.0.0.13", "--dport", "53", "--reply-src", "9.0.2.2", "--reply-port-src", "5353"]);
    expect(conntrackArgs(tcp6).slice(0, 5)).toEqual(["-D", "-f", "ipv6", "-p", "tcp"]);
  });

  it("counts deleted entries; '0 flow entries' (exit 1) is not a failure", async () => {
    const script = 'case "$*" in *9.0.2.2*) echo "conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted." >&2; exit 0;; *) echo "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted." >&2; exit 1;; esac';
    await expect(conntrackFlush([udp, tcp6], fake(script))).resolves.toEqual({ deleted: 2, failed: 0, errors: [] });
  });

  it("other exits, a missing binary and a hang are failures with a message", async () => {
    const bad = await conntrackFlush([udp], fake('echo "conntrack v1.4.7 (conntrack-tools): mismatched address family" >&2; exit 2'));
    expect(bad).toEqual({ deleted: 0, failed: 1, errors: ["conntrack exited 2: conntrack v1.4.7 (conntrack-tools): mismatched address family"] });
    const missing = await conntrackFlush([udp, tcp6], { command: ["/nonexistent/conntrack"] });
    expect(missing).toMatchObject({ failed: 2, errors: [expect.stringContaining("install conntrack")] });
    const hung = await conntrackFlush([udp], fake("sleep 5", { timeoutMs: 150 }));
    expect(hung).toMatchObject({ failed: 1, errors: [expect.stringContaining("did not finish")] });
  });

  it("runs at most `concurrency` processes at once", async () => {
    const dir = `/tmp/dcnet-ct-test-${process.pid}`;
    // Each fake call marks itself running, records how many run at once, and leaves.
    const script = `mkdir -p ${dir}; touch ${dir}/$$; ls ${dir} | wc -l >> ${dir}.max; sleep 0.1; rm ${dir}/$$; echo "0 flow entries have been deleted." >&2; exit 1`;
    const flushes = Array.from({ length: 8 }, (_, i) => ({ ...udp, vport: 1000 + i }));
    await expect(conntrackFlush(flushes, fake(script, { concurrency: 3 }))).resolves.toMatchObject({ failed: 0 });
    const { readFileSync, rmSync } = await import("node:fs");
    const most = Math.max(...readFileSync(`${dir}.max`, "utf8").trim().split("\n").map(Number));
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}.max`, { force: true });
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
  });
});
