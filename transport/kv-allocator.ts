// Cluster-unique allocations (overlay subnets, VTEP IPs, named-VIP addresses) on JetStream KV.
// CP on purpose: a value is handed out only after a compare-and-set on the bucket's stream leader,
// so two nodes never get the same value; the price is that a node cut off from the NATS majority
// cannot claim or release (AllocationUnavailableError). Reads are JetStream direct gets that any
// replica answers, so its local server's replica (if it has one) still answers them, possibly stale:
// no better and no worse than the cache each node keeps of its own allocations.
//
// Two keys per allocation:
//   val.<enc(value)> = name    the truth: created with create() (fails if the key exists), so a value
//                              has at most one holder at any time
//   name.<enc(name)> = value   the index, and the arbiter between concurrent claims of one name
// A claim writes val first, then name; an index whose val key does not hold the name back is stale
// (a release stopped half-way) and is ignored and replaced. So a name holds a value when, and only
// when, both keys say so: name.<n> = v and val.<v> = n (lookup, and what watch reports).
import { jetstream, JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";

export const ALLOCATION_ERROR_CODES = {
  exhausted: "DCNET_E_ALLOC_EXHAUSTED",
  unavailable: "DCNET_E_ALLOC_UNAVAILABLE",
} as const;

export type AllocationErrorCode = (typeof ALLOCATION_ERROR_CODES)[keyof typeof ALLOCATION_ERROR_CODES];

export abstract class AllocationError extends Error {
  abstract readonly code: AllocationErrorCode;
}

/** Every candidate is held by another name. */
export class AllocationExhaustedError extends AllocationError {
  override readonly name = "AllocationExhaustedError";
  readonly code = ALLOCATION_ERROR_CODES.exhausted;
  constructor(
    readonly bucket: string,
    readonly allocation: string,
    readonly tried: number,
  ) {
    super(`no free value for ${JSON.stringify(allocation)} in ${bucket}: all ${tried} candidates are taken`);
  }
}

/** The KV did not answer (no JetStream, no quorum, disconnected): nothing was allocated or read. */
export class AllocationUnavailableError extends AllocationError {
  override readonly name = "AllocationUnavailableError";
  readonly code = ALLOCATION_ERROR_CODES.unavailable;
  constructor(
    readonly bucket: string,
    readonly op: string,
    options?: ErrorOptions,
  ) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`allocation store ${bucket} unavailable during ${op}${cause} (a node cut off from the NATS majority cannot allocate: use the cached value, retry later)`, options);
  }
}

export interface KvAllocatorOptions {
  /** Bucket name, [-_A-Za-z0-9]+. Created when missing. */
  readonly bucket: string;
  /** Stream replicas: 1 for a single server (tests, dev), 3 in production. Used only on creation. Default 1. */
  readonly replicas?: 1 | 3 | 5;
  /** Per-operation timeout, ms. Default 2000. */
  readonly timeoutMs?: number;
}

export interface Allocation {
  readonly name: string;
  readonly value: string;
}

/**
 * What watch() yields: first one `change` per allocation held when it started, then `ready`, then
 * every change as it happens (claims and releases, by any node). `value` undefined: released.
 */
export type AllocationEvent = { readonly type: "change"; readonly name: string; readonly value: string | undefined } | { readonly type: "ready" };

/** A running watch. Ends when stop() is called or the connection closes; throws AllocationUnavailableError if the KV fails under it. */
export interface AllocationWatch extends AsyncIterable<AllocationEvent> {
  stop(): void;
}

/** Longest name or value accepted (before key encoding). */
export const MAX_ALLOCATION_CHARS = 200;
const BUCKET_PATTERN = /^[-\w]+$/;
/** Retries when the name index keeps changing under a claim; past them the candidate is given back. */
const INDEX_RETRIES = 4;

interface Held {
  readonly value: string;
  readonly revision: number;
}

export class KvAllocator {
  readonly bucket: string;
  readonly #kv: KV;

  static async open(nc: NatsConnection, opts: KvAllocatorOptions): Promise<KvAllocator> {
    if (!BUCKET_PATTERN.test(opts.bucket)) throw new TypeError(`KV bucket ${JSON.stringify(opts.bucket)} must match ${BUCKET_PATTERN.source}`);
    const timeout = opts.timeoutMs ?? 2_000;
    const kvm = new Kvm(jetstream(nc, { timeout }));
    // Nodes starting together race to create the bucket's stream, and the server can refuse the
    // loser with "subjects overlap with an existing stream" while the winner's stream settles; a
    // second create of the same config finds it and succeeds.
    for (let attempt = 1; ; attempt++) {
      try {
        const kv = await kvm.create(opts.bucket, { replicas: opts.replicas ?? 1, history: 1, timeout });
        return new KvAllocator(opts.bucket, kv);
      } catch (err) {
        if (attempt < 3 && err instanceof Error && /subjects overlap/.test(err.message)) {
          await new Promise((r) => setTimeout(r, 50 * attempt));
          continue;
        }
        throw new AllocationUnavailableError(opts.bucket, "open", { cause: err });
      }
    }
  }

  private constructor(bucket: string, kv: KV) {
    this.bucket = bucket;
    this.#kv = kv;
  }

  /**
   * The value held by `name`; if none, the first free candidate, taken atomically. Idempotent (a
   * restarted node gets its value back). Concurrent claims of one name, from any node, agree.
   * `candidates` is iterated lazily, so a huge range costs only what is scanned.
   */
  async claim(name: string, candidates: Iterable<string>): Promise<string> {
    const nameKey = `name.${encodeKeyPart(checkPart(name, "name"))}`;
    const existing = await this.#index(nameKey, name, "claim");
    if (existing !== undefined) return existing.value;
    let tried = 0;
    for (const candidate of candidates) {
      tried += 1;
      const valKey = `val.${encodeKeyPart(checkPart(candidate, "candidate"))}`;
      const valRev = await this.#takeValue(valKey, name);
      if (valRev === undefined) continue;
      const won = await this.#writeIndex(nameKey, name, candidate, valKey, valRev);
      if (won !== undefined) return won;
    }
    throw new AllocationExhaustedError(this.bucket, name, tried);
  }

  /** The value `name` holds, or undefined. */
  async lookup(name: string): Promise<string | undefined> {
    return (await this.#index(`name.${encodeKeyPart(checkPart(name, "name"))}`, name, "lookup"))?.value;
  }

  /** Frees the value `name` holds. False when it held none. */
  async release(name: string): Promise<boolean> {
    const nameKey = `name.${encodeKeyPart(checkPart(name, "name"))}`;
    const idx = await this.#get(nameKey, "release");
    if (idx === undefined) return false;
    const valKey = `val.${encodeKeyPart(idx.value)}`;
    const val = await this.#get(valKey, "release");
    // The truth first: once val is gone the value is free, and the index left behind is stale.
    const freed = val?.value === name && (await this.#delete(valKey, val.revision, "release"));
    await this.#delete(nameKey, idx.revision, "release");
    return freed;
  }

  /** Every value held, with its holder, from the val keys (the truth). */
  async entries(): Promise<Allocation[]> {
    const out: Allocation[] = [];
    let keys: string[];
    try {
      keys = [];
      for await (const k of await this.#kv.keys("val.>")) keys.push(k);
    } catch (err) {
      throw new AllocationUnavailableError(this.bucket, "entries", { cause: err });
    }
    for (let i = 0; i < keys.length; i += 64) {
      const batch = await Promise.all(keys.slice(i, i + 64).map(async (k) => ({ k, held: await this.#get(k, "entries") })));
      for (const { k, held } of batch) if (held !== undefined) out.push({ name: held.value, value: decodeKeyPart(k.slice("val.".length)) });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Follows every allocation of the bucket (a KV watch of all its keys, whose initial state is the
   * last entry of each key). Both keys of an allocation pass through it, and a name is reported as
   * holding a value only once name and val agree, so a claim that loses a race (its val key
   * written, then given back) or a stale index is never reported. Throws AllocationUnavailableError
   * when the watch cannot start (no JetStream, no stream leader).
   */
  async watch(): Promise<AllocationWatch> {
    let lastSeq: number;
    let empty: boolean;
    let iter: Awaited<ReturnType<KV["watch"]>>;
    try {
      // The initial state ends at the stream's last message at this point: with history 1 every
      // message left is the last of its key, so a watch of all keys delivers it, in sequence order.
      const status = await this.#kv.status();
      lastSeq = status.streamInfo.state.last_seq;
      empty = status.streamInfo.state.messages === 0;
      iter = await this.#kv.watch({ key: ">" });
    } catch (err) {
      throw new AllocationUnavailableError(this.bucket, "watch", { cause: err });
    }
    const bucket = this.bucket;
    async function* events(): AsyncGenerator<AllocationEvent, void, undefined> {
      const book = new AllocationBook();
      let ready = empty;
      if (ready) yield { type: "ready" };
      try {
        for await (const e of iter) {
          const changes = book.apply(e.key, e.operation === "PUT" ? e.string() : undefined);
          if (ready) {
            yield* changes;
          } else if (e.revision >= lastSeq) {
            ready = true;
            for (const [name, value] of book.held()) yield { type: "change", name, value };
            yield { type: "ready" };
          }
        }
      } catch (err) {
        throw new AllocationUnavailableError(bucket, "watch", { cause: err });
      } finally {
        iter.stop();
      }
    }
    const gen = events();
    return { [Symbol.asyncIterator]: () => gen, stop: () => iter.stop() };
  }

  /** The index of `name`, if its value's val key holds the name back. */
  async #index(nameKey: string, name: string, op: string): Promise<Held | undefined> {
    const idx = await this.#get(nameKey, op);
    if (idx === undefined) return undefined;
    const val = await this.#get(`val.${encodeKeyPart(idx.value)}`, op);
    return val?.value === name ? idx : undefined;
  }

  /** Makes val key hold `name`; returns its revision, or undefined when another name holds it. */
  async #takeValue(valKey: string, name: string): Promise<number | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const created = await this.#create(valKey, name, "claim");
      if (created !== undefined) return created;
      const holder = await this.#get(valKey, "claim");
      if (holder === undefined) continue; // freed between our create and get: one more try
      if (holder.value !== name) return undefined;
      // Held by this very name: a claim of it that stopped half-way, or one running right now. Bump the
      // revision so a release that read the old one cannot delete it under us.
      return this.#update(valKey, name, holder.revision, "claim");
    }
    return undefined;
  }

  /** Points the index at `candidate`; when another claim of the name won, gives the candidate back and returns theirs. */
  async #writeIndex(nameKey: string, name: string, candidate: string, valKey: string, valRev: number): Promise<string | undefined> {
    for (let attempt = 0; attempt < INDEX_RETRIES; attempt++) {
      if ((await this.#create(nameKey, candidate, "claim")) !== undefined) return candidate;
      const theirs = await this.#get(nameKey, "claim");
      if (theirs?.value === candidate) return candidate; // a concurrent claim of this name chose the same value
      if (theirs === undefined) continue; // released between our create and get: try again
      const valid = await this.#get(`val.${encodeKeyPart(theirs.value)}`, "claim");
      if (valid?.value === name) {
        await this.#delete(valKey, valRev, "claim");
        return theirs.value;
      }
      await this.#delete(nameKey, theirs.revision, "claim"); // stale index: replace it
    }
    await this.#delete(valKey, valRev, "claim");
    return undefined;
  }

  async #get(key: string, op: string): Promise<Held | undefined> {
    try {
      const e = await this.#kv.get(key);
      return e !== null && e.operation === "PUT" ? { value: e.string(), revision: e.revision } : undefined;
    } catch (err) {
      throw new AllocationUnavailableError(this.bucket, op, { cause: err });
    }
  }

  /** create(): the new revision, or undefined when the key exists. */
  async #create(key: string, value: string, op: string): Promise<number | undefined> {
    try {
      return await this.#kv.create(key, value);
    } catch (err) {
      if (isCasConflict(err)) return undefined;
      throw new AllocationUnavailableError(this.bucket, op, { cause: err });
    }
  }

  async #update(key: string, value: string, revision: number, op: string): Promise<number | undefined> {
    try {
      return await this.#kv.update(key, value, revision);
    } catch (err) {
      if (isCasConflict(err)) return undefined;
      throw new AllocationUnavailableError(this.bucket, op, { cause: err });
    }
  }

  /** Delete if still at `revision`; false when someone wrote the key since. */
  async #delete(key: string, revision: number, op: string): Promise<boolean> {
    try {
      await this.#kv.delete(key, { previousSeq: revision });
      return true;
    } catch (err) {
      if (isCasConflict(err)) return false;
      throw new AllocationUnavailableError(this.bucket, op, { cause: err });
    }
  }
}

/**
 * The two key spaces as a watch sees them, and the allocations they agree on. Pure; the watch feeds
 * it one key at a time.
 */
export class AllocationBook {
  /** val keys: value → name (the truth). */
  readonly #vals = new Map<string, string>();
  /** name keys: name → value (the index, maybe stale or not yet written). */
  readonly #index = new Map<string, string>();
  /** What has been reported: name → value, where both agree. */
  readonly #held = new Map<string, string>();

  /** A key's new content (undefined: deleted); returns the changes of held allocations it makes. */
  apply(key: string, content: string | undefined): Array<{ readonly type: "change"; readonly name: string; readonly value: string | undefined }> {
    const touched: string[] = [];
    if (key.startsWith("val.")) {
      const value = decodeKeyPart(key.slice("val.".length));
      const before = this.#vals.get(value);
      if (before !== undefined) touched.push(before);
      if (content === undefined) this.#vals.delete(value);
      else {
        this.#vals.set(value, content);
        if (content !== before) touched.push(content);
      }
    } else if (key.startsWith("name.")) {
      const name = decodeKeyPart(key.slice("name.".length));
      if (content === undefined) this.#index.delete(name);
      else this.#index.set(name, content);
      touched.push(name);
    }
    const out: Array<{ readonly type: "change"; readonly name: string; readonly value: string | undefined }> = [];
    for (const name of touched) {
      const idx = this.#index.get(name);
      const value = idx !== undefined && this.#vals.get(idx) === name ? idx : undefined;
      if (value === this.#held.get(name)) continue;
      if (value === undefined) this.#held.delete(name);
      else this.#held.set(name, value);
      out.push({ type: "change", name, value });
    }
    return out;
  }

  /** Every allocation both keys agree on. */
  held(): ReadonlyMap<string, string> {
    return this.#held;
  }
}

function isCasConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

function checkPart(s: string, what: string): string {
  if (s.length === 0 || s.length > MAX_ALLOCATION_CHARS) throw new TypeError(`allocation ${what} must be 1..${MAX_ALLOCATION_CHARS} characters, got ${s.length}`);
  return s;
}

// KV keys are NATS subjects: '.' splits tokens and only [-/_=.A-Za-z0-9] is allowed. Letters, digits,
// '-' and '/' stay readable ("9_2E0_2E1_2E0/24"); every other UTF-8 byte, '_' included, becomes _XX.
const KEEP = /[A-Za-z0-9/-]/;

export function encodeKeyPart(s: string): string {
  let out = "";
  for (const ch of s) {
    if (KEEP.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, "utf8")) out += `_${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function decodeKeyPart(k: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < k.length; ) {
    if (k[i] === "_") {
      bytes.push(parseInt(k.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(k.charCodeAt(i));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
