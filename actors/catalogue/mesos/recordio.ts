// RecordIO, the framing of the Mesos Operator API event stream: "<decimal byte length>\n<bytes>".
// Pure: an incremental decoder fed whatever chunks the socket delivers, and the matching encoder.
// A record may be split at any byte (inside the length prefix, inside a multi-byte UTF-8 character);
// bytes are collected per record and decoded only when the record is complete.
import { RecordIoError } from "./errors.js";

export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** A length prefix longer than this is garbage, whatever its value (leading zeros included). */
const MAX_LENGTH_DIGITS = 20;
const NEWLINE = 0x0a;
const ZERO = 0x30;
const NINE = 0x39;

interface RecordIoDecoderOptions {
  /** Largest record accepted; a larger length prefix is an error. Default 16 MiB. */
  readonly maxRecordBytes?: number;
}

interface PushResult {
  /** Records completed by this chunk, in order (UTF-8 decoded; invalid sequences become U+FFFD). */
  readonly records: string[];
  /** Set once the framing is broken; the decoder stays broken (the caller reconnects). */
  readonly error?: RecordIoError;
}

/** Show a few bytes the way a log line can carry them. */
function excerpt(bytes: Uint8Array, from: number): string {
  const slice = bytes.subarray(from, from + 16);
  const text = [...slice].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");
  return JSON.stringify(text.slice(0, 40));
}

export class RecordIoDecoder {
  private readonly maxRecordBytes: number;
  private readonly utf8 = new TextDecoder("utf-8", { fatal: false });
  /** Bytes consumed so far (offset of the next byte pushed). */
  private offset = 0;
  /** Length prefix being read: digits seen and their value; undefined while reading a body. */
  private digits = 0;
  private value = 0;
  /** Body being read: expected length and the parts collected so far. */
  private bodyLength: number | undefined;
  private parts: Uint8Array[] = [];
  private collected = 0;
  private error: RecordIoError | undefined;

  constructor(options: RecordIoDecoderOptions = {}) {
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  /** Feed the next chunk of the stream; returns the records it completed. */
  push(chunk: Uint8Array): PushResult {
    const records: string[] = [];
    if (this.error !== undefined) return { records, error: this.error };
    let i = 0;
    // bodyLength 0: an empty record completes at its newline, even at the end of a chunk.
    while (i < chunk.length || this.bodyLength === 0) {
      i = this.bodyLength === undefined ? this.readLength(chunk, i) : this.readBody(chunk, i, records);
      if (this.error !== undefined) return { records, error: this.error };
    }
    this.offset += chunk.length;
    return { records };
  }

  /** The stream ended: an error if it ended inside a record (or the decoder was already broken). */
  end(): RecordIoError | undefined {
    if (this.error !== undefined) return this.error;
    if (this.bodyLength !== undefined) {
      this.error = new RecordIoError("truncated", this.offset, `record of ${this.bodyLength} bytes cut off after ${this.collected}`);
    } else if (this.digits > 0) {
      this.error = new RecordIoError("truncated", this.offset, `length prefix cut off after ${this.digits} digit(s)`);
    }
    return this.error;
  }

  /** Consume length-prefix bytes from `i`; returns the next index. */
  private readLength(chunk: Uint8Array, i: number): number {
    for (; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (b === NEWLINE) {
        if (this.digits === 0) return this.fail("empty-length", chunk, i);
        this.bodyLength = this.value;
        this.digits = 0;
        this.value = 0;
        return i + 1;
      }
      if (b < ZERO || b > NINE) return this.fail("bad-length", chunk, i);
      this.digits += 1;
      this.value = this.value * 10 + (b - ZERO);
      if (this.value > this.maxRecordBytes) return this.fail("too-large", chunk, i);
      if (this.digits > MAX_LENGTH_DIGITS) return this.fail("bad-length", chunk, i);
    }
    return i;
  }

  /** Consume body bytes from `i`; completes a record when all its bytes are in. */
  private readBody(chunk: Uint8Array, i: number, records: string[]): number {
    const want = (this.bodyLength as number) - this.collected;
    const take = Math.min(want, chunk.length - i);
    // Parts of an unfinished record are copied: the caller may reuse its chunk buffer.
    if (take > 0) this.parts.push(take === want ? chunk.subarray(i, i + take) : chunk.slice(i, i + take));
    this.collected += take;
    if (this.collected === this.bodyLength) {
      records.push(this.utf8.decode(concat(this.parts, this.collected)));
      this.parts = [];
      this.collected = 0;
      this.bodyLength = undefined;
    }
    return i + take;
  }

  private fail(problem: "bad-length" | "empty-length" | "too-large", chunk: Uint8Array, i: number): number {
    const seen = problem === "too-large" ? `length prefix exceeds ${this.maxRecordBytes} bytes` : `${excerpt(chunk, i)} where a length digit or "\\n" was expected`;
    this.error = new RecordIoError(problem, this.offset + i, seen);
    return chunk.length;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const utf8Encoder = new TextEncoder();

/** Frame one record: "<byte length>\n<utf-8 bytes>". */
export function encodeRecord(json: string): Uint8Array {
  const body = utf8Encoder.encode(json);
  const prefix = utf8Encoder.encode(`${body.length}\n`);
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}
