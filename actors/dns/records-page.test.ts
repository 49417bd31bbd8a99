// Paging the zone view: the pages of a walk put together are exactly `zoneRecords` (the bytes
// `/v1/records` and `dcnet ctl dns records` print), no page is larger than asked, and a walk across
// zone rebuilds lists every record present throughout exactly once, in order.
import { describe, expect, it } from "@jest/globals";
import { compareOwners, RecordPager, type RecordCursor, type RecordsPage, type RecordsPageRequest } from "./records-page.js";
import { assembleZoneSet, ZoneBuilder, zoneRecords, type Zone } from "./zones/index.js";
import type { ZoneRow } from "./zones/zoneset.js";

function zone(origin: string, owners: readonly string[], extra?: (b: ZoneBuilder) => void): Zone {
  const b = ZoneBuilder.dcos(origin);
  owners.forEach((o, i) => {
    b.addAddress(`${o}.${origin}`, `10.0.${i >> 8}.${i & 255}`);
    if (i % 3 === 0) b.addAddress(`${o}.${origin}`, `fd00::${i + 1}`);
    if (i % 4 === 0) b.add(`_http._${o}._tcp.${origin}`, { type: "SRV", data: { port: 80 + i, target: `${o}.${origin}` } });
  });
  extra?.(b);
  return b.build();
}

// "a" sorts before "a-b" as stored but after it as printed ("a." > "a-b."): the walk must follow print order.
const owners = ["b", "a", "a-b", "a.x", "a0", "zz", "m", "_x", "A1".toLowerCase(), ...Array.from({ length: 40 }, (_, i) => `t${i}`)];

/** Every page of a walk; `between(n)` may swap the zone set after page n. */
function walk(pager: RecordPager, get: () => ReadonlyMap<string, Zone>, req: Omit<RecordsPageRequest, "after">, between?: (n: number) => void): RecordsPage[] {
  const pages: RecordsPage[] = [];
  let after: RecordCursor | undefined;
  for (let n = 0; n < 10_000; n++) {
    const page = pager.page(get(), { ...req, ...(after ? { after } : {}) });
    pages.push(page);
    if (!page.next) return pages;
    after = page.next;
    between?.(n);
  }
  throw new Error("walk did not end");
}

const key = (r: ZoneRow) => `${r.name} ${r.type} ${r.data}`;

describe("RecordPager", () => {
  const a = zone("a.thisdcos.directory", owners);
  const b = zone("b.thisdcos.directory", owners.slice(0, 5));
  const set = assembleZoneSet(1, [b, a]).zones;

  it("orders owners as printed, with their trailing dot", () => {
    const names = ["a", "a-b", "a.x", "a0", "ab"];
    expect([...names].sort(compareOwners)).toEqual([...names].sort((x, y) => (`${x}.` < `${y}.` ? -1 : 1)));
    expect(compareOwners("a", "a")).toBe(0);
  });

  it.each([1, 2, 7, 64, 4096])("one zone, pages of %i: together exactly zoneRecords, each at most the limit, no empty last page", (limit) => {
    const pages = walk(new RecordPager(), () => set, { zone: "A.thisdcos.directory.", limit });
    const all = zoneRecords(a);
    expect(pages.flatMap((p) => p.rows)).toEqual(all);
    expect(pages).toHaveLength(Math.ceil(all.length / limit));
    for (const p of pages) expect(p.rows.length).toBeLessThanOrEqual(limit);
    expect(pages[0]?.zones).toEqual(["a.thisdcos.directory", "b.thisdcos.directory"]);
  });

  it("every zone: zones in origin order, each zone's rows as zoneRecords, pages crossing zones", () => {
    const pages = walk(new RecordPager(), () => set, { limit: 10 });
    expect(pages.flatMap((p) => p.rows)).toEqual([...zoneRecords(a), ...zoneRecords(b)]);
    expect(pages).toHaveLength(Math.ceil((zoneRecords(a).length + zoneRecords(b).length) / 10));
  });

  it("only the types asked for", () => {
    const rows = walk(new RecordPager(), () => set, { zone: "a.thisdcos.directory", limit: 5, types: ["SRV", "AAAA"] }).flatMap((p) => p.rows);
    expect(rows).toEqual(zoneRecords(a).filter((r) => r.type === "SRV" || r.type === "AAAA"));
  });

  it("a zone not served: no rows, the zone list says what is", () => {
    expect(new RecordPager().page(set, { zone: "nosuch", limit: 10 })).toEqual({ zones: ["a.thisdcos.directory", "b.thisdcos.directory"], rows: [] });
  });

  it("rebuilds during the walk: what is there throughout appears exactly once; nothing twice", () => {
    // Each page is read from a new generation: records are added before and after the cursor, one is
    // removed, a TTL changes, and a zone appears.
    const gens: Array<ReadonlyMap<string, Zone>> = [set];
    const later = owners.filter((o) => o !== "m");
    gens.push(assembleZoneSet(2, [b, zone("a.thisdcos.directory", later, (x) => x.addAddress("0-early.a.thisdcos.directory", "10.9.0.1"))]).zones);
    gens.push(assembleZoneSet(3, [b, zone("a.thisdcos.directory", later, (x) => x.addAddress("zzz-late.a.thisdcos.directory", "10.9.0.2")), zone("c.thisdcos.directory", ["c1"])]).zones);
    let g = 0;
    const pages = walk(new RecordPager(), () => gens[Math.min(g, gens.length - 1)] as ReadonlyMap<string, Zone>, { limit: 20 }, () => g++);
    const seen = pages.flatMap((p) => p.rows).map(key);
    expect(new Set(seen).size).toBe(seen.length);
    const throughout = [...gens.map((zs) => new Set([...zs.values()].flatMap((z) => zoneRecords(z)).map(key)))].reduce((x, y) => new Set([...x].filter((k) => y.has(k))));
    for (const k of throughout) expect(seen.filter((s) => s === k)).toHaveLength(1);
    expect(seen).toContain("zzz-late.a.thisdcos.directory. A 10.9.0.2");
    expect(seen).not.toContain("0-early.a.thisdcos.directory. A 10.9.0.1");
    expect(seen).toContain("c1.c.thisdcos.directory. A 10.0.0.0");
  });

  it("a zone holding the same record twice (a part not using ZoneBuilder) lists both, whatever the page size", () => {
    const base = zone("d.thisdcos.directory", ["x", "y"]);
    const dup = { type: "A" as const, ttl: 5, data: "10.1.1.1" };
    const names = new Map(base.names);
    names.set("x.d.thisdcos.directory", new Map([["A", [dup, dup, { ...dup, ttl: 9 }]]]));
    const twice: Zone = { ...base, names };
    for (const limit of [1, 2, 3]) {
      const rows = walk(new RecordPager(), () => new Map([["d.thisdcos.directory", twice]]), { limit }).flatMap((p) => p.rows);
      expect(rows).toEqual(zoneRecords(twice));
    }
  });
});
