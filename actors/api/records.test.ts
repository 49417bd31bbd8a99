// `/v1/records` a page at a time, against a stand-in zone view that counts what it is asked: the
// body is byte for byte the whole-zone rendering it replaced, the zone view is asked for
// ceil(records / page) pages of at most a page each, and a reader that stops reading stops the
// pulling after the same number of pages whether the zones hold 5,000 or 50,000 records.
import { describe, expect, it } from "@jest/globals";
import type { Readable } from "node:stream";
import type { RecordsPage, RecordsPageRequest } from "../dns/index.js";
import { validateConfig } from "../node/config.js";
import { buildApi, type ApiSources } from "./routes.js";
import { recordsBody, zoneRows } from "./records.js";
import { dcosRecord, type ZoneRowLike } from "./shapes.js";

interface Row extends ZoneRowLike {
  readonly zone: string;
}

/** `n` rows over two zones in the zone view's order, with the SOA/NS rows and one SRV dcos-net cannot print. */
function rows(n: number): Row[] {
  const out: Row[] = [];
  for (const zone of ["a.thisdcos.directory", "mesos"]) {
    out.push({ zone, name: `${zone}.`, type: "NS", ttl: 5, data: "ns.spartan." }, { zone, name: `${zone}.`, type: "SOA", ttl: 5, data: `ns.spartan. root. 7 60 180 86400 1` });
    for (let i = 0; i < n / 2; i++) {
      const name = `t${String(i).padStart(6, "0")}.${zone}.`;
      out.push({ zone, name, type: i % 5 === 0 ? "AAAA" : "A", ttl: 5, data: i % 5 === 0 ? `fd00::${i}` : `10.0.${i >> 8 & 255}.${i & 255}` });
      if (i % 3 === 0) out.push({ zone, name: `_http._t${i}._tcp.${zone}.`, type: "SRV", ttl: 5, data: `0 0 ${8000 + (i % 100)} t${i}.${zone}.` });
    }
    out.push({ zone, name: `bad.${zone}.`, type: "SRV", ttl: 5, data: "malformed" });
  }
  return out;
}

/** A zone view over `all` that counts the pages asked and their sizes; it keeps its position in the cursor's `seen`. */
function standIn(all: readonly Row[]) {
  const asked: RecordsPageRequest[] = [];
  const sizes: number[] = [];
  const zones = [...new Set(all.map((r) => r.zone))].sort();
  const pager = async (req: RecordsPageRequest): Promise<RecordsPage> => {
    asked.push(req);
    const fits = (r: Row) => (req.zone === undefined || r.zone === req.zone) && (!req.types || (req.types as readonly string[]).includes(r.type));
    const page: Row[] = [];
    let i = req.after?.seen ?? 0;
    for (; i < all.length && page.length < req.limit; i++) if (fits(all[i] as Row)) page.push(all[i] as Row);
    while (i < all.length && !fits(all[i] as Row)) i++;
    sizes.push(page.length);
    const out = page.map(({ name, type, ttl, data }) => ({ name, type: type as RecordsPage["rows"][number]["type"], ttl, data }));
    return { zones, rows: out, ...(i < all.length ? { next: { zone: "", name: "", type: "", data: "", seen: i } } : {}) };
  };
  return { pager, asked, sizes };
}

/** What `/v1/records` sent before it was paged: every zone's rows through dcosRecord, joined by ",\n". */
const wholeZoneBody = (all: readonly Row[]) => `[${all.flatMap((r) => { const d = dcosRecord(r); return d ? [JSON.stringify(d)] : []; }).join(",\n")}]`;

const read = async (s: Readable) => {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString();
};

describe("/v1/records a page at a time", () => {
  it("GET /v1/records: the same bytes as the whole-zone body, ceil(records/page) pages of at most a page, A/AAAA/SRV only", async () => {
    const all = rows(3000);
    const s = standIn(all);
    const sources: ApiSources = { recordsPage: s.pager, vips: async () => new Map(), nodes: async () => new Map(), query: async () => ({ rcode: "NOERROR", answers: [] }) as never, metrics: async () => ({ contentType: "text/plain", text: "" }) };
    const app = buildApi({ config: validateConfig({ id: "t", nats: { insecure: true } }), version: "test", sources });
    // Over a loopback socket (fastify's inject does not load under jest's ESM runner).
    const at = await app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const res = await fetch(`${at}/v1/records`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("transfer-encoding")).toBe("chunked");
      expect(await res.text()).toBe(wholeZoneBody(all));
    } finally {
      await app.close();
    }
    const listed = all.filter((r) => ["A", "AAAA", "SRV"].includes(r.type)).length;
    expect(s.asked).toHaveLength(Math.ceil(listed / 512));
    expect(Math.max(...s.sizes)).toBeLessThanOrEqual(512);
    expect(s.asked.every((q) => q.limit === 512 && q.zone === undefined && q.types?.join() === "A,AAAA,SRV")).toBe(true);
  });

  it("small pages: still the same bytes (page edges between a zone's rows and between zones)", async () => {
    const all = rows(40);
    const s = standIn(all);
    expect(await read(recordsBody(s.pager, 3))).toBe(wholeZoneBody(all));
    expect(s.sizes.every((n) => n <= 3)).toBe(true);
  });

  it("a reader that stops reading stops the pulling: pages asked before it drains do not grow with the zones", async () => {
    const pulled = async (n: number) => {
      const s = standIn(rows(n));
      const body = recordsBody(s.pager);
      body.read(0); // start filling, read nothing
      // Readable.from stops asking its generator once a push finds the buffer at its high-water mark.
      while (body.readableLength < body.readableHighWaterMark) await new Promise((r) => setImmediate(r));
      const before = s.asked.length;
      await new Promise((r) => setImmediate(r));
      expect(s.asked.length).toBe(before);
      body.destroy();
      return before;
    };
    const [small, large] = [await pulled(5_000), await pulled(50_000)];
    expect(small).toBeLessThanOrEqual(2);
    expect(large).toBe(small);
  });

  it("zoneRows: one zone's rows of the asked types, page after page; a zone not served is empty", async () => {
    const all = rows(500);
    const s = standIn(all);
    expect(await zoneRows(s.pager, "mesos", ["A", "SOA"], 7)).toEqual(all.filter((r) => r.zone === "mesos" && (r.type === "A" || r.type === "SOA")).map(({ name, type, ttl, data }) => ({ name, type, ttl, data })));
    expect(s.sizes.every((n) => n <= 7)).toBe(true);
    expect(await zoneRows(s.pager, "nosuch", undefined)).toEqual([]);
  });
});
