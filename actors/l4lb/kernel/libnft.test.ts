import { describe, it, expect } from "@jest/globals";
import { LibNft, openLibNft, type NftCtx, type NftNative } from "./libnft.js";

// No kernel here: a stand-in for the C functions records what the backend asks of libnftables and
// answers when the test says. The real library runs in integration/l4lb-libnft.test.ts, inside a
// network namespace.
interface Pending {
  readonly kind: "file" | "buffer";
  /** The command, or the staged text the file holds. */
  readonly input: string;
  readonly flags: number;
  finish(rc: number, out?: string, err?: string): void;
}

function fakeNative() {
  const pending: Pending[] = [];
  const staged = new Map<string, string>();
  const released: string[] = [];
  let flags = 0;
  let out = "";
  let err = "";
  let running = 0;
  let maxRunning = 0;
  let nextFd = 40;
  const start = (kind: Pending["kind"], input: string, done: (e: unknown, rc: number) => void): void => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    pending.push({
      kind,
      input,
      flags,
      finish: (rc, o = "", e = "") => {
        running--;
        out += o;
        err += e;
        // As koffi: the callback comes later, on the event loop.
        setImmediate(() => done(null, rc));
      },
    });
  };
  const native: NftNative = {
    ctxNew: () => 1n,
    ctxFree: () => undefined,
    bufferOutput: () => 0,
    bufferError: () => 0,
    setOutputFlags: (_ctx, f) => void (flags = f),
    runBufferAsync: (_ctx, cmd, done) => start("buffer", cmd, done),
    runFileAsync: (_ctx, path, done) => start("file", staged.get(path) ?? `(no file ${path})`, done),
    stage: (text) => {
      const path = `/proc/self/fd/${nextFd++}`;
      staged.set(path, text);
      return { path, release: () => void released.push(path) };
    },
    outputBuffer: () => [out, (out = "")][0] ?? "",
    errorBuffer: () => [err, (err = "")][0] ?? "",
  };
  return { native, pending, released, maxRunning: () => maxRunning };
}

const CTX: NftCtx = 1n;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Lets queued promise callbacks run until `cond` holds (bounded). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !cond(); i++) await tick();
}

describe("LibNft", () => {
  it("applies a transaction as a file, like `nft -f -`: errors name the failing line of /dev/stdin", async () => {
    const f = fakeNative();
    const nft = new LibNft(f.native, CTX);
    const p = nft.apply("add table ip t\nadd chain ip t nope { bad }\n", 5_000);
    await until(() => f.pending.length === 1);
    expect(f.pending).toHaveLength(1);
    expect(f.pending[0]).toMatchObject({ kind: "file", input: "add table ip t\nadd chain ip t nope { bad }\n", flags: 0 });
    f.pending[0]?.finish(-1, "", "/proc/self/fd/40:2:28-30: Error: syntax error\n");
    await expect(p).resolves.toEqual({ code: 1, stdout: "", stderr: "/dev/stdin:2:28-30: Error: syntax error\n", timedOut: false });
    // The memory file is closed once nft has read it.
    expect(f.released).toEqual(["/proc/self/fd/40"]);
  });

  it("lists with JSON output on, and applies with it off (nft would first try to read the transaction as JSON)", async () => {
    const f = fakeNative();
    const nft = new LibNft(f.native, CTX);
    const list = nft.command("list table ip t", { json: true, timeoutMs: 5_000 });
    await until(() => f.pending.length === 1);
    f.pending[0]?.finish(0, '{"nftables": []}\n');
    await expect(list).resolves.toMatchObject({ code: 0, stdout: '{"nftables": []}\n' });
    const apply = nft.apply("flush table ip t\n", 5_000);
    await until(() => f.pending.length === 2);
    f.pending[1]?.finish(0);
    await apply;
    expect(f.pending.map((p) => [p.kind, p.flags])).toEqual([
      ["buffer", 1 << 4],
      ["file", 0],
    ]);
  });

  it("runs one call at a time, in the order asked, each answer with its own output", async () => {
    const f = fakeNative();
    const nft = new LibNft(f.native, CTX);
    const a = nft.command("list table ip a", { json: true, timeoutMs: 5_000 });
    const b = nft.apply("flush table ip b\n", 5_000);
    const c = nft.command("list table ip c", { json: true, timeoutMs: 5_000 });
    await until(() => f.pending.length === 1);
    expect(f.pending.map((p) => p.input)).toEqual(["list table ip a"]);
    f.pending[0]?.finish(0, "A");
    await until(() => f.pending.length === 2);
    expect(f.pending.map((p) => p.input)).toEqual(["list table ip a", "flush table ip b\n"]);
    f.pending[1]?.finish(1, "", "Error: b\n");
    await until(() => f.pending.length === 3);
    f.pending[2]?.finish(0, "C");
    expect(await Promise.all([a, b, c])).toEqual([
      { code: 0, stdout: "A", stderr: "", timedOut: false },
      { code: 1, stdout: "", stderr: "Error: b\n", timedOut: false },
      { code: 0, stdout: "C", stderr: "", timedOut: false },
    ]);
    expect(f.maxRunning()).toBe(1);
  });

  it("past its deadline a running call answers timedOut, and the next call still waits for it to return", async () => {
    const f = fakeNative();
    const nft = new LibNft(f.native, CTX);
    const slow = nft.apply("a huge transaction\n", 30);
    const next = nft.command("list table ip t", { json: true, timeoutMs: 5_000 });
    await expect(slow).resolves.toMatchObject({ timedOut: true });
    await sleep(20);
    expect(f.pending).toHaveLength(1);
    f.pending[0]?.finish(0);
    await until(() => f.pending.length === 2);
    expect(f.pending).toHaveLength(2);
    f.pending[1]?.finish(0, "{}");
    await expect(next).resolves.toMatchObject({ code: 0, stdout: "{}" });
  });

  it("a call whose deadline passes while it waits its turn never runs", async () => {
    const f = fakeNative();
    const nft = new LibNft(f.native, CTX);
    const first = nft.command("list table ip a", { json: true, timeoutMs: 5_000 });
    const late = nft.apply("add table ip late\n", 20);
    await expect(late).resolves.toMatchObject({ timedOut: true });
    f.pending[0]?.finish(0);
    await first;
    await sleep(10);
    expect(f.pending.map((p) => p.input)).toEqual(["list table ip a"]);
  });

  it("a big transaction is followed by an empty run, so the next change does not pay for dropping the cache it left", async () => {
    const f = fakeNative();
    const nft = new LibNft(f.native, CTX);
    const big = "add element ip t s { 1 }\n".repeat(4000);
    const p = nft.apply(big, 5_000);
    await until(() => f.pending.length === 1);
    f.pending[0]?.finish(0);
    await expect(p).resolves.toMatchObject({ code: 0 });
    const next = nft.apply("add element ip t s { 2 }\n", 5_000);
    await until(() => f.pending.length === 2);
    expect(f.pending[1]).toMatchObject({ kind: "buffer", input: "" });
    f.pending[1]?.finish(0);
    await until(() => f.pending.length === 3);
    f.pending[2]?.finish(0);
    await expect(next).resolves.toMatchObject({ code: 0 });
    // A small one is not.
    const small = nft.apply("add element ip t s { 3 }\n", 5_000);
    await until(() => f.pending.length === 4);
    f.pending[3]?.finish(0);
    await small;
    await sleep(5);
    expect(f.pending).toHaveLength(4);
  });

  it("a failure to stage the input rejects that call only; the queue goes on", async () => {
    const f = fakeNative();
    f.native.stage = () => {
      throw new Error("memfd_create failed (errno 24)");
    };
    const nft = new LibNft(f.native, CTX);
    await expect(nft.apply("x\n", 5_000)).rejects.toThrow("memfd_create failed");
    const list = nft.command("list table ip t", { json: true, timeoutMs: 5_000 });
    await until(() => f.pending.length === 1);
    f.pending[0]?.finish(0, "{}");
    await expect(list).resolves.toMatchObject({ code: 0 });
  });
});

describe("openLibNft", () => {
  it("a library that is not there is a reason, not a throw", async () => {
    const r = await openLibNft("libnftables-absent.so.9");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/libnftables-absent\.so\.9/);
  });
});
