// In-process nftables: libnftables (Debian libnftables1, the library the nft binary is a thin shell
// around) called through koffi. One `nft -f` process per change costs a process start and a fresh
// load of nft's ruleset cache before the kernel transaction even starts; a context kept open here
// pays neither (issue 12: one VIP change at 10,000 VIPs, p99 ≤ 25 ms).
//
// Three rules keep it safe:
//   - Never on the event loop: a 10,000-VIP load takes ~0.4 s inside libnftables, and the DNS server
//     answers on this thread. Each run is a koffi async call, on a worker thread.
//   - One call in flight, process-wide: libnftables keeps global state outside its context (the
//     interface cache every run releases, the ruleset generation id, netlink buffer sizes), so two
//     contexts on two threads would race. One context, one queue; a call waits for the previous one.
//   - The process's own namespace: the context's netlink socket, and those libnftables opens for a
//     run, belong to the namespace of the thread that opens them. A worker thread of a pool cannot
//     be moved into another namespace for one call and back safely, so callers that wrap nft in
//     `ip netns exec` (tests, the bench) keep running the binary (nft.ts picks).
import type { LibraryHandle } from "koffi";
import type { RunResult } from "../../../host/run.js";

/** The soname the Debian package libnftables1 installs (a dependency of the package nftables). */
export const LIBNFTABLES = "libnftables.so.1";

// include/nftables/libnftables.h (nftables 1.0.6).
const NFT_CTX_DEFAULT = 0;
const NFT_CTX_OUTPUT_JSON = 1 << 4;
// linux/socket.h, linux/netlink.h: the probe below.
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_NETFILTER = 12;
// linux/memfd.h.
const MFD_CLOEXEC = 1;
/**
 * Stack of koffi's async calls. Its default, 128 KiB, is too small: libnftables was written for a
 * process's main thread (8 MiB) and keeps netlink buffers on the stack (~68 KiB to receive, ~72 KiB
 * for a transaction's acks, nested). The pages are touched only as used.
 */
const ASYNC_STACK_BYTES = 8 * 1024 * 1024;

/** A transaction at least this long is followed by an empty run that drops libnftables' cache. */
const TIDY_AFTER_BYTES = 64 * 1024;
const TIDY_TIMEOUT_MS = 60_000;

/** Opaque `struct nft_ctx *` (koffi 3 passes pointers as BigInt). */
export type NftCtx = bigint;

/** The C functions this backend calls, as it needs them: the seam unit tests replace. */
export interface NftNative {
  ctxNew(): NftCtx | null;
  ctxFree(ctx: NftCtx): void;
  /** Output and errors into buffers of the context instead of the process's stdout and stderr. */
  bufferOutput(ctx: NftCtx): number;
  bufferError(ctx: NftCtx): number;
  setOutputFlags(ctx: NftCtx, flags: number): void;
  /** nft_run_cmd_from_buffer on a worker thread; `done` runs on the event loop. */
  runBufferAsync(ctx: NftCtx, cmd: string, done: (err: unknown, rc: number) => void): void;
  /** nft_run_cmd_from_filename on a worker thread; `done` runs on the event loop. */
  runFileAsync(ctx: NftCtx, path: string, done: (err: unknown, rc: number) => void): void;
  /** `text` as a file nft can open by path (an anonymous memory file); release() closes it. */
  stage(text: string): { readonly path: string; release(): void };
  /** What the last run printed; reading a buffer rewinds it for the next run. */
  outputBuffer(ctx: NftCtx): string;
  errorBuffer(ctx: NftCtx): string;
}

/**
 * One libnftables context and the queue in front of it. Both verbs answer as the nft binary would:
 * exit code 0 or 1 (nft's NFT_EXIT_FAILURE for any refusal), what it printed on stdout and stderr.
 * `timeoutMs` counts from the call, the wait for an earlier call included. Past it the answer is
 * timedOut: a call still queued is dropped (it never runs); one already running cannot be stopped in
 * a foreign thread and goes on to its end, and the next call waits for it, so its transaction may or
 * may not have committed, as when the nft process is killed.
 */
export class LibNft {
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly native: NftNative,
    private readonly ctx: NftCtx,
  ) {}

  /**
   * `nft -f -`: one transaction, all of it or nothing. Handed to libnftables as a file, not a buffer:
   * for buffer input nft quotes the FIRST line of the buffer under every error, whatever line failed,
   * while for a file it names the line and quotes it, as `nft -f -` does for its stdin.
   */
  apply(text: string, timeoutMs: number): Promise<RunResult> {
    const result = this.enqueue(timeoutMs, async () => {
      const input = this.native.stage(text);
      try {
        const r = await this.call(false, (done) => this.native.runFileAsync(this.ctx, input.path, done));
        // The same words as the binary: it names its input /dev/stdin.
        return { ...r, stderr: r.stderr.split(input.path).join("/dev/stdin") };
      } finally {
        input.release();
      }
    });
    // A big transaction leaves libnftables' cache holding all it built (40,000 elements at 10,000
    // VIPs); the next run drops it first, ~50 ms on this machine. An empty run does it now, off the
    // path of the next change (which then takes ~1.5 ms instead of ~55).
    if (text.length >= TIDY_AFTER_BYTES) void this.enqueue(TIDY_TIMEOUT_MS, () => this.call(false, (done) => this.native.runBufferAsync(this.ctx, "", done))).catch(() => undefined);
    return result;
  }

  /** One command, e.g. `list table ip dcnet-l4lb`; `json` as `nft -j`. */
  command(cmd: string, opts: { readonly json: boolean; readonly timeoutMs: number }): Promise<RunResult> {
    return this.enqueue(opts.timeoutMs, () => this.call(opts.json, (done) => this.native.runBufferAsync(this.ctx, cmd, done)));
  }

  private enqueue(timeoutMs: number, work: () => Promise<RunResult>): Promise<RunResult> {
    if (this.closed) return Promise.reject(new Error("libnftables context closed"));
    return new Promise<RunResult>((resolve, reject) => {
      let settled = false;
      const settle = (f: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      const timer = setTimeout(() => settle(() => resolve({ code: null, stdout: "", stderr: "", timedOut: true })), timeoutMs);
      const turn = this.tail.then(async () => {
        if (settled) return;
        if (this.closed) return settle(() => reject(new Error("libnftables context closed")));
        try {
          const r = await work();
          settle(() => resolve(r));
        } catch (e) {
          settle(() => reject(e));
        }
      });
      // The next call waits for this one's native call to return, answered or not.
      this.tail = turn.catch(() => undefined);
    });
  }

  private call(json: boolean, start: (done: (err: unknown, rc: number) => void) => void): Promise<RunResult> {
    this.native.setOutputFlags(this.ctx, json ? NFT_CTX_OUTPUT_JSON : 0);
    return new Promise<RunResult>((resolve) => {
      start((err, rc) => {
        // Drained after every run, a failed one too: each buffer grows until it is read.
        const stdout = this.native.outputBuffer(this.ctx);
        const stderr = this.native.errorBuffer(this.ctx);
        if (err !== undefined && err !== null) resolve({ code: 1, stdout, stderr: `${stderr}libnftables call failed: ${String(err)}\n`, timedOut: false });
        else resolve({ code: rc === 0 ? 0 : 1, stdout, stderr, timedOut: false });
      });
    });
  }

  /** Frees the context once the call in flight (if any) has returned. For tests and the bench. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    this.native.ctxFree(this.ctx);
  }
}

/** The library and a context, or why not. */
export type LibNftLoad = { readonly ok: true; readonly nft: LibNft } | { readonly ok: false; readonly error: Error };

/**
 * Loads koffi and libnftables and opens a context with its output buffered. Fails (never throws)
 * when koffi has no binary for this platform, the library is absent, or nfnetlink cannot be opened.
 */
export async function openLibNft(path: string = LIBNFTABLES): Promise<LibNftLoad> {
  try {
    const native = await loadNative(path);
    const ctx = native.ctxNew();
    if (ctx === null || ctx === 0n) throw new Error("nft_ctx_new returned NULL");
    if (native.bufferOutput(ctx) !== 0 || native.bufferError(ctx) !== 0) {
      native.ctxFree(ctx);
      throw new Error("nft_ctx_buffer_output/nft_ctx_buffer_error failed");
    }
    return { ok: true, nft: new LibNft(native, ctx) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
  }
}

let shared: Promise<LibNftLoad> | undefined;
/** A failure to load is answered for this long, then loading is tried again. */
const RETRY_LOAD_MS = 60_000;

/** The process's one context (see the top of this file), opened on first use. */
export function sharedLibNft(): Promise<LibNftLoad> {
  if (shared) return shared;
  const opening = openLibNft();
  shared = opening;
  void opening.then((r) => {
    if (r.ok) return;
    setTimeout(() => {
      if (shared === opening) shared = undefined;
    }, RETRY_LOAD_MS).unref();
  });
  return opening;
}

async function loadNative(path: string): Promise<NftNative> {
  // Loaded on first use only: processes that never program nft never map the native code.
  const koffi = (await import("koffi")).default;
  try {
    koffi.config({ ...koffi.config(), async_stack_size: ASYNC_STACK_BYTES });
  } catch {
    // Settings are frozen once koffi has loaded a library in this process (an earlier load of this
    // module, e.g. another test file in the same worker): check that they are the ones we need.
  }
  if ((koffi.config().async_stack_size ?? 0) < ASYNC_STACK_BYTES) throw new Error(`koffi's async stack is ${koffi.config().async_stack_size ?? "?"} bytes, below the ${ASYNC_STACK_BYTES} libnftables needs`);
  const libc = koffi.load("libc.so.6");
  probeNfnetlink(libc);
  const memfdCreate = libc.func("int memfd_create(const char *name, unsigned int flags)");
  const write = libc.func("long write(int fd, const void *buf, size_t count)");
  const close = libc.func("int close(int fd)");
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (e) {
    throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const ctxNew = lib.func("void *nft_ctx_new(uint32_t flags)");
  const ctxFree = lib.func("void nft_ctx_free(void *ctx)");
  const bufferOutput = lib.func("int nft_ctx_buffer_output(void *ctx)");
  const bufferError = lib.func("int nft_ctx_buffer_error(void *ctx)");
  const setOutputFlags = lib.func("void nft_ctx_output_set_flags(void *ctx, unsigned int flags)");
  const runBuffer = lib.func("int nft_run_cmd_from_buffer(void *ctx, const char *buf)");
  const runFile = lib.func("int nft_run_cmd_from_filename(void *ctx, const char *filename)");
  const outputBuffer = lib.func("const char *nft_ctx_get_output_buffer(void *ctx)");
  const errorBuffer = lib.func("const char *nft_ctx_get_error_buffer(void *ctx)");
  return {
    ctxNew: () => ctxNew(NFT_CTX_DEFAULT) as NftCtx | null,
    ctxFree: (ctx) => void ctxFree(ctx),
    bufferOutput: (ctx) => bufferOutput(ctx) as number,
    bufferError: (ctx) => bufferError(ctx) as number,
    setOutputFlags: (ctx, flags) => void setOutputFlags(ctx, flags),
    runBufferAsync: (ctx, cmd, done) => runBuffer.async(ctx, cmd, (err: unknown, rc: number) => done(err, rc)),
    runFileAsync: (ctx, file, done) => runFile.async(ctx, file, (err: unknown, rc: number) => done(err, rc)),
    stage: (text) => {
      // An anonymous file in memory: nothing on disk to leave behind, gone with its last descriptor.
      // nft opens it by path (/proc/self/fd/N), which gives it a description of its own at offset 0.
      const fd = memfdCreate("dcnet-nft", MFD_CLOEXEC) as number;
      if (fd < 0) throw new Error(`memfd_create failed (errno ${koffi.errno()})`);
      try {
        const bytes = Buffer.from(text, "utf8");
        for (let off = 0; off < bytes.length; ) {
          const n = Number(write(fd, bytes.subarray(off), bytes.length - off));
          if (n <= 0) throw new Error(`writing nft's input to a memory file failed (errno ${koffi.errno()})`);
          off += n;
        }
      } catch (e) {
        close(fd);
        throw e;
      }
      return { path: `/proc/self/fd/${fd}`, release: () => void close(fd) };
    },
    outputBuffer: (ctx) => (outputBuffer(ctx) as string | null) ?? "",
    errorBuffer: (ctx) => (errorBuffer(ctx) as string | null) ?? "",
  };
}

/**
 * nft_ctx_new exits the whole process when it cannot open its netfilter netlink socket (libnftables'
 * netlink_init_error): open and close one first, so that case becomes "library unavailable".
 */
function probeNfnetlink(libc: LibraryHandle): void {
  const socket = libc.func("int socket(int domain, int type, int protocol)");
  const close = libc.func("int close(int fd)");
  const fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER) as number;
  if (fd < 0) throw new Error("cannot open a netfilter netlink socket (nfnetlink): libnftables would exit the process");
  close(fd);
}
