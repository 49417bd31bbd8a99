// One iperf3 TCP run (client side, JSON output), for the benches that compare a data path with a
// reference path (bench/l4lb-path.ts, bench/overlay.ts): throughput, and the address the server saw
// itself reached on (`--get-server-output`), so a bench can check both sides reached the same backend.

export interface IperfRun {
  readonly gbps: number;
  /** The server's own address for the connection (from its text report), "?" when it did not say. */
  readonly serverLocal: string;
}

interface IperfJson {
  readonly error?: string;
  readonly end?: { readonly sum_received?: { readonly bits_per_second?: number } };
  /** The server's own report (--get-server-output; text, as the server runs without -J). */
  readonly server_output_text?: string;
}

/** Runs the iperf3 client through `exec` (the caller's way into a namespace). */
export type IperfExec = (args: readonly string[], timeoutMs: number) => Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }>;

export async function iperfTcp(exec: IperfExec, target: string, port: number, seconds: number): Promise<IperfRun> {
  for (let attempt = 1; ; attempt++) {
    const r = await exec(["-c", target, "-p", String(port), "-t", String(seconds), "-J", "--get-server-output", "--connect-timeout", "3000"], (seconds + 20) * 1000);
    let j: IperfJson = {};
    try {
      j = JSON.parse(r.stdout) as IperfJson;
    } catch {
      // reported below
    }
    const bps = j.end?.sum_received?.bits_per_second;
    if (r.code === 0 && bps !== undefined) return { gbps: bps / 1e9, serverLocal: /local (\S+) port \d+ connected/.exec(j.server_output_text ?? "")?.[1] ?? "?" };
    // The one-test-at-a-time server can still be closing the previous test.
    if (attempt < 3 && /busy/i.test(j.error ?? r.stdout)) {
      await new Promise((res) => setTimeout(res, 500));
      continue;
    }
    throw new Error(`iperf3 to ${target} exited ${r.code}: ${j.error ?? (r.stderr.trim() || r.stdout.slice(-500))}`);
  }
}
