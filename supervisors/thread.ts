// A worker thread owned by an actor, for work too long to run on the node's one event-loop thread
// without stalling the DNS listeners (a large Mesos state read and turned into records takes tens of
// milliseconds). Request/response over postMessage; the thread's death is reported once to
// `onDeath`, which the owning actor turns into its own crash, so the supervisor restarts both.
import { Worker, parentPort } from "node:worker_threads";

type Envelope<T> = { readonly id: number; readonly body: T };
type Reply<R> = { readonly id: number; readonly ok: true; readonly value: R } | { readonly id: number; readonly ok: false; readonly error: string };

export interface Thread<Req, Res> {
  /** Rejects when the thread fails the request, dies, or takes longer than timeoutMs. */
  request(body: Req, timeoutMs: number): Promise<Res>;
  terminate(): Promise<void>;
}

/** Callers name the entry's source (`new URL("./worker.ts", import.meta.url)`); the compiled build runs its .js. */
function runnable(entry: URL): URL {
  return import.meta.url.endsWith(".js") && entry.pathname.endsWith(".ts") ? new URL(entry.href.replace(/\.ts$/, ".js")) : entry;
}

/** Starts `entry` (a module that calls serveThread) in a worker thread. */
export function startThread<Req, Res>(entry: URL, onDeath: (err: Error) => void): Thread<Req, Res> {
  const worker = new Worker(new URL("./thread-entry.mjs", import.meta.url), { workerData: { entry: runnable(entry).href } });
  // Never keeps the node alive by itself: the owning actor's lifetime decides.
  worker.unref();
  const pending = new Map<number, { resolve: (v: Res) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let next = 1;
  let dead: Error | undefined;
  let terminating = false;
  const failAll = (err: Error): void => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    pending.clear();
  };
  const die = (err: Error): void => {
    if (dead) return;
    dead = err;
    failAll(err);
    if (!terminating) onDeath(err);
  };
  worker.on("message", (m: Reply<Res>) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.error));
  });
  worker.on("error", (err) => die(err));
  worker.on("exit", (code) => die(new Error(`worker thread ${entry.pathname.split("/").pop()} exited with code ${code}`)));
  return {
    request(body, timeoutMs) {
      if (dead) return Promise.reject(dead);
      const id = next++;
      return new Promise<Res>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`worker thread did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        worker.postMessage({ id, body } satisfies Envelope<Req>);
      });
    },
    async terminate() {
      terminating = true;
      failAll(new Error("worker thread terminated"));
      await worker.terminate();
    },
  };
}

/** The thread side: answers each request with `handle`; a rejection goes back as the request's error. */
export function serveThread<Req, Res>(handle: (body: Req) => Promise<Res>): void {
  const port = parentPort;
  if (!port) throw new Error("serveThread runs only inside a worker thread");
  port.on("message", (m: Envelope<Req>) => {
    handle(m.body).then(
      (value) => port.postMessage({ id: m.id, ok: true, value } satisfies Reply<Res>),
      (err: unknown) => port.postMessage({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Reply<Res>),
    );
  });
}
