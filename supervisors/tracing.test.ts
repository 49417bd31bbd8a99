import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { context, trace, type Context, type ContextManager } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { BACKGROUND_ATTR } from "../observability/background.js";
import { IntentSampler } from "../observability/sampling.js";
import { startTree, supervisor, worker, type Behaviour, type Tree } from "./index.js";
import { waitFor } from "../testkit/supervisors.js";

/** Delegates to the real manager and counts calls: proof of "no tracing work" when untraced. */
class CountingContextManager implements ContextManager {
  calls = 0;
  constructor(private readonly inner: ContextManager) {}
  active(): Context {
    this.calls++;
    return this.inner.active();
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    this.calls++;
    return this.inner.with(ctx, fn, thisArg, ...args);
  }
  bind<T>(ctx: Context, target: T): T {
    return this.inner.bind(ctx, target);
  }
  enable(): this {
    this.inner.enable();
    return this;
  }
  disable(): this {
    this.inner.disable();
    return this;
  }
}

type Msg = { readonly type: "go"; readonly n: number } | { readonly type: "work"; readonly n: number };

const manager = new CountingContextManager(new AsyncLocalStorageContextManager());
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer("supervisors-test");

/** front forwards to back after an await; back records which n it saw. */
function pipeline(seen: number[], tree: () => Tree | undefined): { front: Behaviour<null, Msg>; back: Behaviour<null, Msg> } {
  return {
    front: {
      init: () => null,
      handle: async (s, msg) => {
        await new Promise((r) => setTimeout(r, 2));
        tree()?.lookup<Msg>("/root/back")?.tell({ type: "work", n: msg.n });
        return s;
      },
      messageName: (m) => m.type,
    },
    back: {
      init: () => null,
      handle: (s, msg) => {
        seen.push(msg.n);
        return s;
      },
    },
  };
}

async function startPipeline(traced: boolean, seen: number[]): Promise<Tree> {
  let tree: Tree | undefined = undefined;
  const { front, back } = pipeline(seen, () => tree);
  tree = await startTree(supervisor("root", "one_for_one", [worker("back", back), worker("front", front)]), traced ? { tracer } : {});
  return tree;
}

const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

beforeAll(() => {
  context.setGlobalContextManager(manager.enable());
});
afterAll(async () => {
  await provider.shutdown();
  context.disable();
});
beforeEach(() => exporter.reset());

describe("tracing - spans follow messages through mailboxes", () => {
  it("each handler span is the child of the span active at tell time, even when queued behind another", async () => {
    const seen: number[] = [];
    const tree = await startPipeline(true, seen);
    const front = tree.lookup<Msg>("/root/front");
    // Two requests back to back: the second waits in front's mailbox while the first is handled.
    for (const n of [1, 2]) tracer.startActiveSpan(`request ${n}`, (span) => (front?.tell({ type: "go", n }), span.end()));
    await waitFor(() => seen.length === 2, "both messages at back");
    const spans = exporter.getFinishedSpans();
    for (const n of [1, 2]) {
      const [request] = byName(spans, `request ${n}`);
      const fronts = byName(spans, "/root/front go").filter((s) => s.parentSpanContext?.spanId === request?.spanContext().spanId);
      expect(fronts).toHaveLength(1);
      const backs = byName(spans, "/root/back work").filter((s) => s.parentSpanContext?.spanId === fronts[0]?.spanContext().spanId);
      expect(backs).toHaveLength(1);
      expect(backs[0]?.spanContext().traceId).toBe(request?.spanContext().traceId);
    }
    await tree.shutdown();
  });

  it("a crashing handler's span is marked as an error", async () => {
    const crashy: Behaviour<null, { type: "x" }> = {
      init: () => null,
      handle: () => {
        throw new Error("nope");
      },
    };
    const tree = await startTree(supervisor("root", "one_for_one", [worker("c", crashy)]), { tracer });
    tree.lookup<{ type: "x" }>("/root/c")?.tell({ type: "x" });
    await waitFor(() => exporter.getFinishedSpans().length === 1, "the span");
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe("/root/c x");
    expect(span?.status).toMatchObject({ code: 2, message: "nope" });
    await tree.shutdown();
  });

  it("without a tracer, telling and handling do no context work and make no spans", async () => {
    const seen: number[] = [];
    const tree = await startPipeline(false, seen);
    const front = tree.lookup<Msg>("/root/front");
    manager.calls = 0;
    for (let n = 0; n < 20; n++) front?.tell({ type: "go", n });
    await waitFor(() => seen.length === 20, "all messages at back");
    expect(manager.calls).toBe(0);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    await tree.shutdown();
  });
});

describe("tracing - background turns (Behaviour.background)", () => {
  type Bg = { readonly type: "tick"; readonly change: boolean } | { readonly type: "write" };
  /** A ticker whose tick is background and, when it finds a change, tells the writer. */
  async function startTicker(backgroundRatio: number): Promise<{ tree: Tree; spans: () => ReadableSpan[]; done: () => number; close: () => Promise<void> }> {
    const out = new InMemorySpanExporter();
    const p = new BasicTracerProvider({
      sampler: new ParentBasedSampler({ root: new IntentSampler(new AlwaysOnSampler(), new TraceIdRatioBasedSampler(backgroundRatio)) }),
      spanProcessors: [new SimpleSpanProcessor(out)],
    });
    let writes = 0;
    let tree: Tree | undefined = undefined;
    const ticker: Behaviour<null, Bg> = {
      init: () => null,
      handle: (s, msg) => {
        if (msg.type === "tick" && msg.change) tree?.lookup<Bg>("/root/writer")?.tell({ type: "write" });
        return s;
      },
      background: (msg) => msg.type === "tick",
    };
    const writer: Behaviour<null, Bg> = { init: () => null, handle: (s) => (writes++, s) };
    tree = await startTree(supervisor("root", "one_for_one", [worker("writer", writer), worker("ticker", ticker)]), { tracer: p.getTracer("bg-test") });
    return { tree, spans: () => out.getFinishedSpans(), done: () => writes, close: async () => (await tree?.shutdown(), await p.shutdown()) };
  }

  it("default ratio 0: a background tick makes no span; the change it finds starts a trace of its own", async () => {
    const t = await startTicker(0);
    const ticker = t.tree.lookup<Bg>("/root/ticker");
    for (let i = 0; i < 5; i++) ticker?.tell({ type: "tick", change: false });
    ticker?.tell({ type: "tick", change: true });
    await waitFor(() => t.done() === 1 && t.spans().length === 1, "the write's span");
    const [write] = t.spans();
    expect(write?.name).toBe("/root/writer write");
    expect(write?.parentSpanContext).toBeUndefined();
    expect(write?.links).toEqual([]); // the tick was not recorded: nothing to link to
    expect(t.spans().filter((s) => s.name.includes("tick"))).toEqual([]);
    await t.close();
  });

  it("background ratio 1: ticks are traced and marked; the change is still its own trace, linked to the tick that found it", async () => {
    const t = await startTicker(1);
    t.tree.lookup<Bg>("/root/ticker")?.tell({ type: "tick", change: true });
    await waitFor(() => t.spans().length === 2, "tick and write spans");
    const tick = t.spans().find((s) => s.name === "/root/ticker tick");
    const write = t.spans().find((s) => s.name === "/root/writer write");
    expect(tick?.attributes[BACKGROUND_ATTR]).toBe(true);
    expect(write?.parentSpanContext).toBeUndefined();
    expect(write?.spanContext().traceId).not.toBe(tick?.spanContext().traceId);
    expect(write?.links.map((l) => l.context.spanId)).toEqual([tick?.spanContext().spanId]);
    await t.close();
  });

  it("a background message told inside a change's trace stays in it", async () => {
    const t = await startTicker(0);
    const p = new BasicTracerProvider({ spanProcessors: [] });
    const outer = p.getTracer("outer").startSpan("admin request");
    context.with(trace.setSpan(context.active(), outer), () => t.tree.lookup<Bg>("/root/ticker")?.tell({ type: "tick", change: true }));
    outer.end();
    await waitFor(() => t.spans().length === 2, "tick and write in the request's trace");
    for (const s of t.spans()) expect(s.spanContext().traceId).toBe(outer.spanContext().traceId);
    await t.close();
    await p.shutdown();
  });
});
