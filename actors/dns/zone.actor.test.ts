// The zone actor running zone parts, on a real tree with a fake store (an actor-shaped object that
// replays its keys to a new watch, then sends changes): each change reaches the parts that watch
// it, only they are rebuilt, and after a crash the board keeps the last zones until the store has
// been replayed into the new incarnation.
import { afterEach, describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { Registry } from "prom-client";
import { startTree, supervisor, worker, type ActorRef, type ReplyTo, type Tree } from "../../supervisors/index.js";
import type { KeyView, StoreMsg, WatchEvent } from "../gossip/index.js";
import { ZoneBoard } from "./board.js";
import { DnsMetrics } from "./metrics.js";
import type { RecordCursor, RecordsPage } from "./records-page.js";
import { zoneBehaviour, type ZoneMsg } from "./zone.actor.js";
import { ZoneBuilder, zoneRecords, type ZonePart } from "./zones/index.js";

const ts = { t: 1, c: 0, r: "x" };
const lww = (value: unknown) => ({ type: "lww", value, ts }) as KeyView[string];

/** Keys and watches, answering the two messages the zone actor sends. */
class FakeStore {
  readonly keys = new Map<string, KeyView>();
  readonly watches = new Map<number, { prefix: string; subscriber: (ev: WatchEvent) => void }>();
  #next = 1;
  readonly ref: ActorRef<StoreMsg> = {
    path: "/node/gossip/store",
    tell: (msg) => {
      if (msg.type === "unwatch") this.watches.delete(msg.id);
    },
    ask: <R>(build: (reply: ReplyTo<R>) => StoreMsg) =>
      new Promise<R>((resolve) => {
        const msg = build(resolve as ReplyTo<R>);
        if (msg.type !== "watch") throw new Error(`unexpected ${msg.type}`);
        const id = this.#next++;
        for (const [key, value] of this.keys) if (key.startsWith(msg.prefix)) msg.subscriber({ key, value, initial: true });
        this.watches.set(id, { prefix: msg.prefix, subscriber: msg.subscriber });
        resolve(id as R);
      }),
  };

  set(key: string, value: KeyView | undefined): void {
    if (value) this.keys.set(key, value);
    else this.keys.delete(key);
    for (const w of this.watches.values()) if (key.startsWith(w.prefix)) w.subscriber({ key, value, initial: false });
  }
}

/** A part serving `<name>.<origin>` A <ip> from keys `<prefix><name>`, counting its builds. */
function countingPart(name: string, prefix: string, builds: { n: number }): ZonePart<Map<string, string>> {
  const origin = `${name}.thisdcos.directory`;
  return {
    name,
    origins: [origin],
    watch: prefix === "" ? [] : [prefix],
    init: () => new Map(),
    fold(names, ev) {
      const ip = ev.value?.ip;
      const owner = ev.key.slice(prefix.length);
      if (ip?.type === "lww" && typeof ip.value === "string") return Boolean(names.set(owner, ip.value));
      return names.delete(owner);
    },
    build(names, ctx) {
      builds.n++;
      const b = ZoneBuilder.dcos(origin, ctx.defaults);
      for (const [owner, ip] of names) b.addAddress(`${owner}.${origin}`, ip);
      b.addAddress(`node.${origin}`, ctx.nodeIp ?? "0.0.0.0");
      return [b.build()];
    },
  };
}

const until = async (what: string, check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

let tree: Tree | undefined;
afterEach(async () => {
  await tree?.shutdown();
  tree = undefined;
});

async function start(parts: readonly ZonePart[], store: FakeStore, board = new ZoneBoard()): Promise<{ board: ZoneBoard; tree: Tree }> {
  const behaviour = zoneBehaviour({ parts, nodeId: "n1", ttl: 5, negativeTtl: 1, nodeIp: () => "10.0.0.9", board, metrics: new DnsMetrics(new Registry()), logger: pino({ level: "silent" }), store: () => store.ref });
  tree = await startTree(supervisor("node", "one_for_one", [supervisor("dns", "one_for_one", [worker("zone", behaviour)], { intensity: 5, periodMs: 10_000 })]));
  return { board, tree };
}

const names = (board: ZoneBoard, origin: string): string[] => [...(board.current.zones.get(origin)?.names.keys() ?? [])].sort();

describe("zone actor", () => {
  it("serves every part, folds a change into the parts watching its key and rebuilds only them", async () => {
    const store = new FakeStore();
    store.set("hello/web", { ip: lww("10.1.0.1") });
    const hello = { n: 0 };
    const fixed = { n: 0 };
    const { board } = await start([countingPart("hello", "hello/", hello), countingPart("fixed", "", fixed)], store);
    await until("the snapshot replayed", () => names(board, "hello.thisdcos.directory").includes("web.hello.thisdcos.directory"));
    expect(names(board, "fixed.thisdcos.directory")).toEqual(["fixed.thisdcos.directory", "node.fixed.thisdcos.directory"]);
    expect(fixed.n).toBe(1);
    const before = { hello: hello.n, generation: board.current.generation };
    store.set("hello/api", { ip: lww("10.1.0.2") });
    store.set("other/x", { ip: lww("10.1.0.3") });
    await until("the change served", () => names(board, "hello.thisdcos.directory").includes("api.hello.thisdcos.directory"));
    expect(hello.n).toBeGreaterThan(before.hello);
    expect(fixed.n).toBe(1);
    expect(board.current.generation).toBeGreaterThan(before.generation);
    const rows = await tree!.lookup<ZoneMsg>("/node/dns/zone")!.ask<{ zones: readonly string[] }>((reply) => ({ type: "records", reply }), 1000);
    expect(rows.zones).toEqual(["fixed.thisdcos.directory", "hello.thisdcos.directory"]);
  });

  it("records-page: a zone of M records in ceil(M/limit) asks of at most limit rows, equal to zoneRecords; a change mid-walk neither repeats nor drops a record present throughout", async () => {
    const store = new FakeStore();
    for (let i = 0; i < 300; i++) store.set(`hello/w${i}`, { ip: lww(`10.1.${i >> 8}.${i & 255}`) });
    const { board } = await start([countingPart("hello", "hello/", { n: 0 })], store);
    await until("the snapshot replayed", () => names(board, "hello.thisdcos.directory").includes("w299.hello.thisdcos.directory"));
    const zone = tree!.lookup<ZoneMsg>("/node/dns/zone")!;
    const walk = async (between?: (n: number) => Promise<void>) => {
      const pages: RecordsPage[] = [];
      for (let after: RecordCursor | undefined, n = 0; n < 1000; n++) {
        const page = await zone.ask<RecordsPage>((reply) => ({ type: "records-page", zone: "hello.thisdcos.directory", limit: 50, ...(after ? { after } : {}), reply }), 1000);
        pages.push(page);
        if (!page.next) break;
        after = page.next;
        await between?.(n);
      }
      return pages;
    };
    const all = zoneRecords(board.current.zones.get("hello.thisdcos.directory")!);
    const pages = await walk();
    expect(pages).toHaveLength(Math.ceil(all.length / 50));
    for (const p of pages) expect(p.rows.length).toBeLessThanOrEqual(50);
    expect(pages.flatMap((p) => p.rows)).toEqual(all);
    // Between the first two pages: one name removed, one added at each end of the order.
    const changed = await walk(async (n) => {
      if (n > 0) return;
      const generation = board.current.generation;
      store.set("hello/w150", undefined);
      store.set("hello/a-first", { ip: lww("10.2.0.1") });
      store.set("hello/zz-last", { ip: lww("10.2.0.2") });
      await until("the rebuild", () => board.current.generation > generation && names(board, "hello.thisdcos.directory").includes("zz-last.hello.thisdcos.directory"));
    });
    const seen = changed.flatMap((p) => p.rows.map((r) => `${r.name} ${r.type} ${r.data}`));
    expect(new Set(seen).size).toBe(seen.length);
    for (const r of all.filter((x) => x.name !== "w150.hello.thisdcos.directory." && x.type !== "SOA")) expect(seen).toContain(`${r.name} ${r.type} ${r.data}`);
    expect(seen).toContain("zz-last.hello.thisdcos.directory. A 10.2.0.2");
    expect(seen).not.toContain("a-first.hello.thisdcos.directory. A 10.2.0.1");
  });

  it("after a crash the board keeps the last zones until the new incarnation has replayed the store", async () => {
    const store = new FakeStore();
    store.set("hello/web", { ip: lww("10.1.0.1") });
    const hello = { n: 0 };
    const { board, tree: t } = await start([countingPart("hello", "hello/", hello)], store);
    await until("the first zones", () => names(board, "hello.thisdcos.directory").includes("web.hello.thisdcos.directory"));
    const published: string[][] = [];
    board.onPublish((zs) => published.push([...(zs.zones.get("hello.thisdcos.directory")?.names.keys() ?? [])]));
    const generation = board.current.generation;
    expect(t.crash("/node/dns/zone")).toBe(true);
    await until("a republish", () => board.current.generation > generation);
    // Never an empty (unreplayed) zone in between: every publish after the crash has the name.
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) expect(p).toContain("web.hello.thisdcos.directory");
    expect(zoneRecords(board.current.zones.get("hello.thisdcos.directory")!).map((r) => r.name)).toContain("web.hello.thisdcos.directory.");
  });

  it("a part fed by its own subsystem (ZoneFeed) is served, follows each event, and gets the current state again after a crash", async () => {
    // A stand-in for the L4LB's names board: the current names at subscribe, then each change.
    let current: ReadonlyMap<string, string> = new Map([["web", "11.0.0.37"]]);
    const subs = new Set<(n: ReadonlyMap<string, string>) => void>();
    const publish = (next: ReadonlyMap<string, string>) => {
      current = next;
      for (const s of subs) s(next);
    };
    const origin = "fed.thisdcos.directory";
    const part: ZonePart<{ names: ReadonlyMap<string, string> }, ReadonlyMap<string, string>> = {
      name: "fed",
      origins: [origin],
      watch: [],
      init: () => ({ names: new Map() }),
      fold: () => false,
      feed: {
        subscribe(push) {
          subs.add(push);
          push(current);
          return () => subs.delete(push);
        },
        fold(state, names) {
          if (state.names === names) return false;
          state.names = names;
          return true;
        },
      },
      build(state, ctx) {
        const b = ZoneBuilder.dcos(origin, ctx.defaults);
        for (const [n, ip] of state.names) b.addAddress(`${n}.${origin}`, ip);
        return [b.build()];
      },
    };
    const { board, tree: t } = await start([part], new FakeStore());
    await until("the fed name", () => names(board, origin).includes(`web.${origin}`));
    publish(new Map([["api", "11.0.0.38"]]));
    await until("the change", () => names(board, origin).includes(`api.${origin}`) && !names(board, origin).includes(`web.${origin}`));
    expect(subs.size).toBe(1);
    const generation = board.current.generation;
    expect(t.crash("/node/dns/zone")).toBe(true);
    await until("a republish", () => board.current.generation > generation);
    expect(names(board, origin)).toContain(`api.${origin}`);
    expect(subs.size).toBe(1); // the crashed incarnation unsubscribed
  });

  it("the SOA serial comes from the replicated state: two nodes with the same keys serve the same serial, a newer write raises it, a deletion never lowers it", async () => {
    const at = (value: string, t: number) => ({ ip: { type: "lww", value, ts: { t, c: 0, r: "w" } } }) as KeyView;
    const serialOf = (board: ZoneBoard) => board.current.zones.get("hello.thisdcos.directory")?.soa.data.serial;
    const a = new FakeStore();
    a.set("hello/web", at("10.1.0.1", 1_700_000_000_000));
    a.set("hello/api", at("10.1.0.2", 1_700_000_005_000));
    const first = await start([countingPart("hello", "hello/", { n: 0 })], a);
    await until("a's zone", () => names(first.board, "hello.thisdcos.directory").includes("api.hello.thisdcos.directory"));
    expect(serialOf(first.board)).toBe(1_700_000_005);
    await first.tree.shutdown();
    tree = undefined;
    // Another node, the same keys arriving in the other order, later on its own clock: the same serial.
    const b = new FakeStore();
    b.set("hello/api", at("10.1.0.2", 1_700_000_005_000));
    b.set("hello/web", at("10.1.0.1", 1_700_000_000_000));
    const second = await start([countingPart("hello", "hello/", { n: 0 })], b);
    await until("b's zone", () => names(second.board, "hello.thisdcos.directory").includes("api.hello.thisdcos.directory"));
    expect(serialOf(second.board)).toBe(1_700_000_005);
    b.set("hello/db", at("10.1.0.3", 1_700_000_060_000));
    await until("the newer write", () => serialOf(second.board) === 1_700_000_060);
    b.set("hello/db", undefined);
    await until("the deletion served", () => !names(second.board, "hello.thisdcos.directory").includes("db.hello.thisdcos.directory"));
    expect(serialOf(second.board)).toBe(1_700_000_060);
  });
});
