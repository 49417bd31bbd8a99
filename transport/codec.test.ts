import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { Packr } from "msgpackr";
import { z } from "zod";
import { decode, DEFAULT_MAX_BYTES, encode } from "./codec.js";
import { defineKind } from "./envelope.js";
import { InvalidKindError } from "./errors.js";

const packr = new Packr({ useRecords: false });
const LEVELS = ["trace", "debug", "info", "warn", "error"] as const;
const logLevel = defineKind("admin.log-level", z.strictObject({ level: z.enum(LEVELS) }));
const ping = defineKind("admin.ping", z.strictObject({}));
const defs = [logLevel, ping];
const raw = (value: unknown): Uint8Array => packr.pack(value);
const env = (over: Record<string, unknown>): Uint8Array => raw({ v: 1, kind: "admin.log-level", from: "node-1", ts: 1700000000000, body: { level: "info" }, ...over });

describe("codec - round trip", () => {
  it("decodes what it encodes, with the body typed by the kind", () => {
    const r = decode(encode(logLevel, "node-1", { level: "debug" }, 42), defs);
    expect(r).toEqual({ ok: true, env: { v: 1, kind: "admin.log-level", from: "node-1", ts: 42, body: { level: "debug" } } });
  });

  it("encodes plain msgpack (a map), readable without msgpackr records", () => {
    const bytes = encode(ping, "n", {}, 1);
    expect([0x80, 0xde, 0xdf]).toContain(bytes[0]! >= 0x80 && bytes[0]! <= 0x8f ? 0x80 : bytes[0]); // fixmap, map16 or map32
    expect(packr.unpack(bytes)).toEqual({ v: 1, kind: "admin.ping", from: "n", ts: 1, body: {} });
  });

  it("tolerates extra envelope fields (forward compatibility)", () => {
    expect(decode(env({ trace: "x" }), defs).ok).toBe(true);
  });
});

describe("codec - rejections", () => {
  const big = new Uint8Array(DEFAULT_MAX_BYTES + 1);
  const cases: Array<{ name: string; bytes: Uint8Array; reason: string; kind: string; message: string | RegExp; maxBytes?: number }> = [
    { name: "over the default limit", bytes: big, reason: "too-large", kind: "unknown", message: `message is ${DEFAULT_MAX_BYTES + 1} bytes; the limit is ${DEFAULT_MAX_BYTES}` },
    { name: "over a configured limit", bytes: env({}), maxBytes: 10, reason: "too-large", kind: "unknown", message: /^message is \d+ bytes; the limit is 10$/ },
    { name: "empty", bytes: new Uint8Array(0), reason: "undecodable", kind: "unknown", message: "empty message" },
    { name: "truncated msgpack", bytes: env({}).subarray(0, 10), reason: "undecodable", kind: "unknown", message: /^not msgpack: / },
    { name: "trailing bytes", bytes: Uint8Array.of(0x05, 0x01), reason: "undecodable", kind: "unknown", message: /^not msgpack: Data read, but end of buffer not reached/ },
    { name: "a number", bytes: raw(5), reason: "not-an-envelope", kind: "unknown", message: "expected a map {v, kind, from, ts, body}, got number" },
    { name: "an array", bytes: raw([1, 2]), reason: "not-an-envelope", kind: "unknown", message: "expected a map {v, kind, from, ts, body}, got array" },
    { name: "no version", bytes: raw({ kind: "admin.ping" }), reason: "not-an-envelope", kind: "admin.ping", message: "v: missing" },
    { name: "version is a string", bytes: env({ v: "1" }), reason: "not-an-envelope", kind: "admin.log-level", message: "v: expected a number, got string" },
    { name: "version 2", bytes: env({ v: 2 }), reason: "unknown-version", kind: "admin.log-level", message: "v: 2 is not a known envelope version (known: 1)" },
    { name: "kind missing", bytes: env({ kind: undefined }), reason: "not-an-envelope", kind: "unknown", message: /^kind: expected a string, got / },
    { name: "from not an id", bytes: env({ from: "a b" }), reason: "not-an-envelope", kind: "admin.log-level", message: 'from: "a b" is not a node id (^[A-Za-z0-9_-]{1,64}$)' },
    { name: "ts not a number", bytes: env({ ts: "now" }), reason: "not-an-envelope", kind: "admin.log-level", message: "ts: expected a finite number, got string" },
    { name: "body missing", bytes: raw({ v: 1, kind: "admin.ping", from: "n", ts: 1 }), reason: "not-an-envelope", kind: "admin.ping", message: "body: missing" },
    { name: "unknown kind", bytes: env({ kind: "admin.nope" }), reason: "unknown-kind", kind: "unknown", message: 'kind: "admin.nope" is not one of admin.log-level|admin.ping' },
    { name: "bad enum value", bytes: env({ body: { level: "loud" } }), reason: "invalid-body", kind: "admin.log-level", message: 'body.level: Invalid option: expected one of "trace"|"debug"|"info"|"warn"|"error"' },
    { name: "body of the wrong type", bytes: env({ body: [] }), reason: "invalid-body", kind: "admin.log-level", message: "body: Invalid input: expected object, received array" },
    { name: "extra body key (strict schema)", bytes: env({ body: { level: "info", x: 1 } }), reason: "invalid-body", kind: "admin.log-level", message: 'body: Unrecognized key: "x"' },
  ];

  it.each(cases)("$name → $reason", ({ bytes, reason, kind, message, maxBytes }) => {
    const r = decode(bytes, defs, maxBytes === undefined ? {} : { maxBytes });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(reason);
    expect(r.kind).toBe(kind);
    if (typeof message === "string") expect(r.message).toBe(message);
    else expect(r.message).toMatch(message);
  });

  it("names the path of a nested bad field and caps the list of issues", () => {
    const nested = defineKind("test.nested", z.object({ a: z.array(z.object({ b: z.number() })), c: z.string(), d: z.string(), e: z.string() }));
    const r = decode(encode(nested as never, "n", { a: [{ b: "x" }] } as never), [nested]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe("body.a[0].b: Invalid input: expected number, received string; body.c: Invalid input: expected string, received undefined; body.d: Invalid input: expected string, received undefined (+1 more)");
  });

  it("quotes and truncates a hostile kind in the message, never in the label", () => {
    const r = decode(env({ kind: "x".repeat(500) }), defs);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe("unknown");
      expect(r.message.length).toBeLessThan(200);
    }
  });
});

describe("codec - fuzz", () => {
  it("10,000 random byte buffers: decode never throws and rejects them all", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        if (decode(bytes, defs).ok) accepted += 1;
      }),
      { numRuns: 10_000, seed: 20240601 },
    );
    expect(accepted).toBe(0);
  });

  it("arbitrary msgpack values: decode never throws", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        let bytes: Uint8Array;
        try {
          bytes = raw(value);
        } catch {
          return; // not packable: nothing to decode
        }
        const r = decode(bytes, defs);
        expect(typeof r.ok).toBe("boolean");
      }),
      { numRuns: 2_000, seed: 7 },
    );
  });
});

describe("defineKind", () => {
  it.each(["", "Admin.ping", "admin..ping", "admin.ping.", "unknown", "a b"])("rejects kind %j", (kind) => {
    expect(() => defineKind(kind, z.object({}))).toThrow(InvalidKindError);
  });
  it("accepts dotted lower-case names with dashes", () => {
    expect(defineKind("admin.log-level", z.object({})).kind).toBe("admin.log-level");
  });
});
