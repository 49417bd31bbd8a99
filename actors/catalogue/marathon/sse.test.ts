import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { SseParser } from "./sse.js";
import { SseFramingError } from "./errors.js";

describe("SSE framing", () => {
  it("events with a type, multi-line data, comments, CRLF and CR line ends, an opening BOM", () => {
    const p = new SseParser();
    const out = p.push("\ufeff: hello\r\nevent: a\r\ndata: 1\r\ndata:2\r\n\r\ndata: plain\rid: 7\r\r");
    // A "\r" that ends a chunk may be half of "\r\n": that line waits for the next chunk.
    expect(out).toHaveLength(1);
    out.push(...p.push(": next\n"));
    expect(out).toEqual([
      { type: "a", data: "1\n2" },
      { type: "message", data: "plain", id: "7" },
    ]);
  });

  it("gives the same events however the text is cut into chunks", () => {
    const text = "event: status_update_event\ndata: {\"a\":1}\n\n: keepalive\n\nevent: x\r\ndata: y\r\n\r\n";
    const whole = new SseParser().push(text);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: text.length }), { maxLength: 8 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const p = new SseParser();
        const got = [];
        let last = 0;
        for (const c of [...points, text.length]) {
          got.push(...p.push(text.slice(last, c)));
          last = c;
        }
        expect(got).toEqual(whole);
      }),
    );
    expect(whole.map((e) => e.type)).toEqual(["status_update_event", "x"]);
  });

  it("an event with no data is not dispatched; an event past the size bound ends the stream with a clear error", () => {
    expect(new SseParser().push("event: nothing\n\n")).toEqual([]);
    const p = new SseParser(64);
    expect(() => p.push(`data: ${"x".repeat(100)}`)).toThrow(SseFramingError);
    expect(() => new SseParser(64).push(`data: ${"x".repeat(40)}\ndata: ${"x".repeat(40)}\n`)).toThrow(/an event larger than 64 bytes/);
  });
});
