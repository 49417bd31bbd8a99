import { describe, it, expect } from "@jest/globals";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { RecordIoDecoder, encodeRecord } from "./recordio.js";
import { RecordIoError } from "./errors.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Split `buf` at the given cut points (any order, duplicates allowed). */
function rechunk(buf: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, buf.length]) {
    chunks.push(buf.slice(from, p));
    from = p;
  }
  return chunks;
}

function decodeAll(chunks: Uint8Array[], maxRecordBytes?: number): { records: string[]; error?: RecordIoError; endError?: RecordIoError } {
  const d = new RecordIoDecoder(maxRecordBytes === undefined ? {} : { maxRecordBytes });
  const records: string[] = [];
  for (const c of chunks) {
    const r = d.push(c);
    records.push(...r.records);
    if (r.error) return { records, error: r.error };
  }
  const endError = d.end();
  return endError ? { records, endError } : { records };
}

describe("encodeRecord", () => {
  it("prefixes the UTF-8 byte length, not the string length", () => {
    expect(new TextDecoder().decode(encodeRecord('{"a":"é"}'))).toBe('10\n{"a":"é"}');
    expect(new TextDecoder().decode(encodeRecord(""))).toBe("0\n");
  });
});

describe("RecordIoDecoder", () => {
  it("decodes the operator-api fixture framed line by line and fed one byte at a time", () => {
    const lines = readFileSync(new URL("../../../../shared/fixtures/dcos-net/operator-api.json", import.meta.url), "utf8").split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(38);
    const stream = concat(lines.map(encodeRecord));
    const oneByte = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    const out = decodeAll(oneByte);
    expect(out.error).toBeUndefined();
    expect(out.endError).toBeUndefined();
    expect(out.records).toEqual(lines);
  });

  it("decodes a multi-byte character split across chunks", () => {
    const frame = encodeRecord('"€ and 🚀"');
    for (let cut = 0; cut <= frame.length; cut++) {
      expect(decodeAll([frame.slice(0, cut), frame.slice(cut)]).records).toEqual(['"€ and 🚀"']);
    }
  });

  it("does not keep references to a chunk the caller reuses", () => {
    const d = new RecordIoDecoder();
    const buf = bytes("5\nab");
    expect(d.push(buf).records).toEqual([]);
    buf.fill(0x7a);
    expect(d.push(bytes("cde")).records).toEqual(["abcde"]);
  });

  it.each([
    ["non-digit", "12x\n", "bad-length", 2],
    ["leading garbage", " 12\n", "bad-length", 0],
    ["empty length", "\nabc", "empty-length", 0],
    ["too large", "99999999\n", "too-large", 6],
    ["garbage after a record", "2\n{}HTTP/1.1", "bad-length", 4],
  ])("rejects a malformed length prefix (%s) naming offset and what was seen", (_what, input, problem, offset) => {
    const out = decodeAll([bytes(input)], 1_000_000);
    expect(out.error).toBeInstanceOf(RecordIoError);
    expect(out.error).toMatchObject({ name: "RecordIoError", code: "DCNET_E_RECORDIO", problem, offset });
    expect(out.error?.message).toContain(`at byte ${offset}`);
  });

  it("stays broken after an error and still returns records completed before it", () => {
    const d = new RecordIoDecoder();
    const r = d.push(bytes("2\n{}x"));
    expect(r.records).toEqual(["{}"]);
    expect(r.error?.problem).toBe("bad-length");
    expect(d.push(bytes("2\n{}")).error).toBe(r.error);
    expect(d.end()).toBe(r.error);
  });

  it("reports truncation inside the length prefix and inside the body", () => {
    expect(decodeAll([bytes("1")]).endError?.problem).toBe("truncated");
    expect(decodeAll([bytes("5\nab")]).endError).toMatchObject({ problem: "truncated", offset: 4 });
    expect(decodeAll([bytes("5\n")]).endError?.problem).toBe("truncated");
    expect(decodeAll([bytes("2\n{}")]).endError).toBeUndefined();
    expect(decodeAll([]).endError).toBeUndefined();
  });

  it("property: any records, re-chunked at random boundaries, decode to the same records", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", maxLength: 200 }), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (records, cuts) => {
        // Lone surrogates do not survive UTF-8; compare with what the encoder actually framed.
        const expected = records.map((r) => dec.decode(enc.encode(r)));
        const out = decodeAll(rechunk(concat(records.map(encodeRecord)), cuts));
        expect(out.error).toBeUndefined();
        expect(out.endError).toBeUndefined();
        expect(out.records).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("property: a stream cut inside a record reports truncation at end()", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 50 }), { minLength: 1, maxLength: 10 }), fc.nat(), fc.array(fc.nat(), { maxLength: 10 }), (records, at, cuts) => {
        const frames = records.map(encodeRecord);
        const stream = concat(frames);
        const boundaries = new Set(frames.reduce<number[]>((acc, f) => [...acc, (acc.at(-1) ?? 0) + f.length], [0]));
        const cut = at % stream.length;
        fc.pre(!boundaries.has(cut));
        const out = decodeAll(rechunk(stream.slice(0, cut), cuts));
        expect(out.error).toBeUndefined();
        expect(out.endError).toBeInstanceOf(RecordIoError);
        expect(out.endError?.problem).toBe("truncated");
      }),
      { numRuns: 300 },
    );
  });

  it("property: random garbage never throws, and every error is a RecordIoError", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), fc.integer({ min: 0, max: 1000 }), (chunks, max) => {
        const d = new RecordIoDecoder({ maxRecordBytes: max });
        for (const c of chunks) {
          const r = d.push(c);
          for (const rec of r.records) expect(typeof rec).toBe("string");
          if (r.error) expect(r.error).toBeInstanceOf(RecordIoError);
        }
        const e = d.end();
        if (e) expect(e).toBeInstanceOf(RecordIoError);
      }),
      { numRuns: 500 },
    );
  });
});
