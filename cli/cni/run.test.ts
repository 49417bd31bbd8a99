import { afterEach, describe, expect, it } from "@jest/globals";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemRun, warmRun } from "./run.js";

/**
 * A tool that shows when it started: it notes the time (ms since the epoch), creates a file in `dir`
 * (named by its pid), prints the time, then echoes stdin. Tests wait for these files instead of sleeping, so
 * nothing depends on how fast the machine is.
 */
function stamped(dir: string): [string, ...string[]] {
  return ["node", "-e", "const fs=require('fs');const t=Date.now();fs.writeFileSync(process.argv[1]+'/'+process.pid,'');process.stdout.write(t+'\\n');process.stdin.pipe(process.stdout)", dir];
}
const startedAt = (stdout: string): number => Number(stdout.split("\n")[0]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `n` stamped processes have started in `dir`. */
async function started(dir: string, n: number): Promise<void> {
  while (readdirSync(dir).length < n) await sleep(20);
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "dcnet-cni-run-"));
  dirs.push(dir);
  return dir;
}

describe("cni run", () => {
  it("systemRun: stdin in, exit code, stdout and stderr out; a missing program is code -1 with its name", async () => {
    const run = systemRun();
    expect(await run("sh", ["-c", "cat; echo oops >&2; exit 3"], "in")).toEqual({ code: 3, stdout: "in", stderr: "oops\n" });
    const missing = await run("dcnet-no-such-tool", []);
    expect(missing.code).toBe(-1);
    expect(missing.stderr).toContain("dcnet-no-such-tool");
  });

  it("systemRun: a tool past its deadline is killed, code -1", async () => {
    const r = await systemRun(200)("sleep", ["5"]);
    expect(r.code).toBe(-1);
    expect(r.stderr).toContain("deadline");
  });

  it("warmRun: the warm command runs in the process started ahead; the next one, without prepare, starts at the call; other commands never take it", async () => {
    const dir = tempDir();
    const cmd = stamped(dir);
    const [file, ...args] = cmd;
    const warm = warmRun(cmd);
    warm.prepare();
    await started(dir, 1);
    const t1 = Date.now();
    const first = await warm.run(file, args, "one");
    expect(first.stdout.split("\n")[1]).toBe("one");
    expect(startedAt(first.stdout)).toBeLessThanOrEqual(t1);
    const t2 = Date.now();
    const second = await warm.run(file, args, "two");
    expect(startedAt(second.stdout)).toBeGreaterThanOrEqual(t2);
    warm.prepare();
    await started(dir, 3);
    expect((await warm.run("sh", ["-c", "cat"], "other")).stdout).toBe("other");
    const t3 = Date.now();
    expect(startedAt((await warm.run(file, args, "")).stdout)).toBeLessThanOrEqual(t3);
  });
});
