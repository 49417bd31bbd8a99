// Malformed DNS packets for the fuzz test and bench/dns-fuzz: every kind is malformed by
// construction (never a valid query by chance), so "each one was counted" is exact.

/** A small deterministic generator, so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let rng = seed;
  return () => (rng = (rng * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

export const MALFORMED_KINDS = ["short-header", "response", "question-count", "count-lies", "pointer-loop", "truncated-question", "long-label"] as const;

/** Packet i of the fuzz run: each kind is malformed by construction, never a valid query by chance. */
export function malformed(i: number, rand: () => number, valid: Buffer): Buffer {
  const kind = i % 7;
  const q = Buffer.from(valid);
  switch (kind) {
    case 0: // shorter than a header
      return Buffer.from(Array.from({ length: Math.floor(rand() * 12) }, () => Math.floor(rand() * 256)));
    case 1: // a response (QR set) with random body
      return Buffer.concat([Buffer.from([rand() * 256, rand() * 256, 0x80 | (rand() * 128), rand() * 256]), Buffer.from(Array.from({ length: 8 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)))]);
    case 2: // question count 0 or 2..65535
      q.writeUInt16BE(rand() < 0.5 ? 0 : 2 + Math.floor(rand() * 65_533), 4);
      return q;
    case 3: // answer/authority counts larger than the packet
      q.writeUInt16BE(1 + Math.floor(rand() * 65_534), 6 + 2 * Math.floor(rand() * 2));
      return q;
    case 4: // compression pointer loop in the question name
      return Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    case 5: // truncated inside the question
      return q.subarray(0, 13 + Math.floor(rand() * (q.length - 18)));
    default: // a label longer than 63 bytes
      return Buffer.concat([q.subarray(0, 12), Buffer.from([64 + Math.floor(rand() * 63)]), Buffer.alloc(20, 0x61)]);
  }
}

