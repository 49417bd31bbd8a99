// Container logs as text. Without a TTY the engine frames stdout and stderr in one stream
// (8-byte header: stream type, 3 zero bytes, big-endian length); these helpers undo that.

export interface LogLine {
  /** Milliseconds since the epoch, from the engine's timestamp (0 when the line has none). */
  at: number;
  stream: "stdout" | "stderr";
  text: string;
}

/**
 * Splits a multiplexed log buffer fetched with `timestamps: true` into lines. The json-file driver
 * stores one entry per output line, and each entry arrives as its own frame with its own timestamp.
 */
export function demuxLogLines(buf: Buffer): LogLine[] {
  const lines: LogLine[] = [];
  for (let off = 0; off + 8 <= buf.length; ) {
    const stream = buf[off] === 2 ? "stderr" : "stdout";
    const size = buf.readUInt32BE(off + 4);
    const payload = buf.subarray(off + 8, off + 8 + size).toString("utf8");
    for (const raw of payload.split("\n")) if (raw !== "") lines.push(parseLine(stream, raw));
    off += 8 + size;
  }
  return lines;
}

function parseLine(stream: "stdout" | "stderr", raw: string): LogLine {
  // "2024-05-01T10:00:00.123456789Z text": Date.parse keeps milliseconds, enough to tell two runs apart.
  const sp = raw.indexOf(" ");
  const at = sp > 0 ? Date.parse(raw.slice(0, sp)) : NaN;
  return Number.isNaN(at) ? { at: 0, stream, text: raw } : { at, stream, text: raw.slice(sp + 1) };
}
