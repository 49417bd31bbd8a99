// One decode for the many copies of a message that reach one shared connection. Only for identities
// riding on a connection they do not own (Transport.over: hundreds of node instances in one test or
// bench process). The server sends one copy per matching subscription, so a broadcast (a delta, a
// digest) reaches such a connection 250 times back to back, and each copy was decoded (msgpack + the
// kind's zod schema) on its own: 250 decodes in one synchronous stretch of the client's parser,
// stalls of seconds in bench/propagation at 1,000 stores. A node has one subscription per subject and
// never uses this. Instances still each merge the envelope into their own state; the decoded body is
// shared and, as everywhere, never mutated by its receivers.
import type { DecodeResult } from "./types.js";

/** Distinct recent messages kept: copies of one message arrive back to back, so a few suffice. */
const KEPT = 8;

interface Entry {
  readonly subject: string;
  readonly kinds: string;
  readonly bytes: Uint8Array;
  readonly hash: number;
  readonly result: DecodeResult<unknown>;
}

export class SharedDecodes {
  #entries: Entry[] = [];
  hits = 0;

  /** `decode()`'s result for these bytes on this subject for these accepted kinds, from a copy decoded before when there is one. */
  decode<B>(subject: string, kinds: string, bytes: Uint8Array, decode: () => DecodeResult<B>): DecodeResult<B> {
    const hash = fnv1a(bytes);
    for (const e of this.#entries) {
      if (e.hash === hash && e.subject === subject && e.kinds === kinds && sameBytes(e.bytes, bytes)) {
        this.hits += 1;
        return e.result as DecodeResult<B>;
      }
    }
    const result = decode();
    // A copy: the client's parser may reuse the buffer the message was sliced from.
    this.#entries.unshift({ subject, kinds, bytes: bytes.slice(), hash, result });
    if (this.#entries.length > KEPT) this.#entries.pop();
    return result;
  }
}

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

const perConnection = new WeakMap<object, SharedDecodes>();

/** The one cache of a shared connection. */
export function sharedDecodesOf(nc: object): SharedDecodes {
  let d = perConnection.get(nc);
  if (d === undefined) {
    d = new SharedDecodes();
    perConnection.set(nc, d);
  }
  return d;
}
