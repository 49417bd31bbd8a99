// The in-process nftables backend (libnftables through koffi, actors/l4lb/kernel/libnft.ts) against
// the real kernel. The library programs the namespace of the process that calls it, and a jest
// worker cannot move itself into a namespace, so the checks run in a small script started inside one
// (support/l4lb-libnft-check.ts), each step read back with the nft binary in the same namespace.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createNetnsLab, type NetnsLab } from "./harness/netns.js";

jest.setTimeout(180_000);

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./support/l4lb-libnft-check.ts", import.meta.url));
const BIG_VIPS = 10_000;

interface Check {
  readonly drift: number;
  readonly sameJson: boolean;
  readonly sameParsed: boolean;
  readonly elements: number;
}
interface Observations {
  readonly full: Check;
  readonly delta: Check;
  readonly afterRefusal: Check;
  readonly refused: { name?: string; code?: string; exitCode?: number; message?: string; stderr?: string; unchanged: boolean; cliStderr?: string };
  readonly missing: { lib: string; cli: string };
  readonly big: Check & { vips: number; loadMs: number; maxGapMs: number; ticks: number };
}

describe("libnftables in process (inside a network namespace)", () => {
  let lab: NetnsLab | undefined;
  let seen: Observations;

  beforeAll(async () => {
    lab = await createNetnsLab({ hosts: { h1: "10.81.0.1/24" } });
    const ns = lab.ns("h1");
    // From the repository root, where `--import tsx` resolves; bounded in time.
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", SCRIPT, ns, String(BIG_VIPS)], { cwd: ROOT, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }, (err, out, errOut) =>
        err ? reject(new Error(`the check script failed (${err.message}): ${String(errOut).trim().slice(0, 3000)}`)) : resolve(String(out)),
      ),
    );
    seen = JSON.parse(stdout.trim().split("\n").pop() ?? "") as Observations;
  });

  afterAll(async () => {
    await lab?.cleanup();
  });

  test("a full load of a few VIPs, then a delta, land as the desired state; its JSON listing is the binary's, byte for byte", () => {
    expect(seen.full).toEqual({ drift: 0, sameJson: true, sameParsed: true, elements: 4 * 3 });
    expect(seen.delta).toEqual({ drift: 0, sameJson: true, sameParsed: true, elements: 4 * 3 });
  });

  test("a refused transaction is NftRejectedError with nft's own words, and the kernel is unchanged", () => {
    expect(seen.refused).toMatchObject({ name: "NftRejectedError", code: "DCNET_E_L4LB_NFT_REJECTED", exitCode: 1, unchanged: true });
    // The line that failed (the second), named and quoted as `nft -f -` does: the very same text.
    expect(seen.refused.message).toMatch(/^nft exited 1: \/dev\/stdin:2:\S+ Error: Could not process rule: No such file or directory \/ add element .* goto nb-99 }/);
    expect(seen.refused.stderr).toBe(seen.refused.cliStderr);
    // The context keeps working after a refusal.
    expect(seen.afterRefusal).toEqual({ drift: 0, sameJson: true, sameParsed: true, elements: 4 * 3 });
  });

  test("an absent table reads back as absent, as with the binary", () => {
    expect(seen.missing).toEqual({ lib: "undefined", cli: "undefined" });
  });

  test(`a ${BIG_VIPS.toLocaleString("en")}-VIP load leaves the event loop free (a 2 ms timer keeps ticking) and lands whole`, () => {
    expect(seen.big).toMatchObject({ drift: 0, sameJson: true, sameParsed: true, elements: BIG_VIPS * 4 });
    // Relative, not absolute: the timer's longest wait is a small part of the load it ran beside.
    expect(seen.big.maxGapMs).toBeLessThan(seen.big.loadMs / 4);
    expect(seen.big.ticks).toBeGreaterThan(5);
  });
});
