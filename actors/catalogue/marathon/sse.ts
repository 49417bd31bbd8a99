// Pure: Server-Sent Events framing (WHATWG HTML "event stream interpretation") for Marathon's
// `/v2/events`. Fed the body's text chunks as they come, it returns whole events.
//
// Why our own parser and not an npm client: the `eventsource` client reconnects on its own, at its
// own pace, and gives no hook to resync the app list before events are trusted again, which a
// source needs (each reconnect must refetch /v2/apps); the parser alone (`eventsource-parser`)
// would fit, but the framing is ~40 lines the spec fixes completely, against one more dependency in
// the node's package set. Bounded: an event larger than `maxEventBytes` ends the stream with an error.
import { SseFramingError } from "./errors.js";

export interface SseEvent {
  /** `event:` field; "message" when absent (the spec's default). */
  readonly type: string;
  /** `data:` lines joined with "\n". */
  readonly data: string;
  readonly id?: string;
}

export class SseParser {
  #buf = "";
  #type = "";
  #data: string[] = [];
  #dataBytes = 0;
  #id: string | undefined;
  #first = true;

  constructor(private readonly maxEventBytes = 16 * 1024 * 1024) {}

  /** Whole events completed by this chunk. Throws SseFramingError when an event outgrows the bound. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    // A UTF-8 BOM may open the stream, and only there.
    if (this.#first && text.length > 0) {
      this.#first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.#buf += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.#buf);
      // A lone "\r" at the end may be the first half of "\r\n": wait for the next chunk.
      if (!m || (m[0] === "\r" && m.index === this.#buf.length - 1)) break;
      const line = this.#buf.slice(0, m.index);
      this.#buf = this.#buf.slice(m.index + m[0].length);
      const ev = this.#line(line);
      if (ev) out.push(ev);
    }
    if (this.#buf.length + this.#dataBytes > this.maxEventBytes) throw new SseFramingError(`an event larger than ${this.maxEventBytes} bytes`);
    return out;
  }

  #line(line: string): SseEvent | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined; // a comment (keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.#type = value;
    else if (field === "data") {
      this.#data.push(value);
      this.#dataBytes += value.length + 1;
    } else if (field === "id" && !value.includes("\0")) this.#id = value;
    // "retry" and unknown fields: ignored (the source's own backoff decides when to reconnect).
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const type = this.#type;
    const data = this.#data;
    this.#type = "";
    this.#data = [];
    this.#dataBytes = 0;
    if (data.length === 0) return undefined;
    return { type: type === "" ? "message" : type, data: data.join("\n"), ...(this.#id !== undefined ? { id: this.#id } : {}) };
  }
}
