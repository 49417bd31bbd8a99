import { describe, expect, it } from "@jest/globals";
import { demuxLogLines } from "./docker-logs.js";

function frame(stream: 1 | 2, text: string): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([head, Buffer.from(text)]);
}

describe("demuxLogLines", () => {
  it("splits frames into timestamped lines and keeps which stream each came from", () => {
    const buf = Buffer.concat([
      frame(1, "2026-01-02T03:04:05.123456789Z node-0 ready on 8080\n"),
      frame(2, "2026-01-02T03:04:06.000000001Z oops\n"),
      frame(1, "no timestamp here\n"),
    ]);
    expect(demuxLogLines(buf)).toEqual([
      { at: Date.parse("2026-01-02T03:04:05.123Z"), stream: "stdout", text: "node-0 ready on 8080" },
      { at: Date.parse("2026-01-02T03:04:06.000Z"), stream: "stderr", text: "oops" },
      { at: 0, stream: "stdout", text: "no timestamp here" },
    ]);
  });

  it("ignores a truncated trailing header", () => {
    expect(demuxLogLines(Buffer.concat([frame(1, "2026-01-02T03:04:05Z a\n"), Buffer.from([1, 0, 0])]))).toHaveLength(1);
  });
});
