// Canonical task-name hash: first 5 chars of zbase32(sha1(task.id)) — upstream `hashString`.
// node:crypto is used for the digest only; it does no I/O.
import { createHash } from "node:crypto";

const ZBASE32 = "ybndrfg8ejkmcpqxot1uwisza345h769";

function zbase32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ZBASE32.charAt((buffer >> (bits - 5)) & 31);
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ZBASE32.charAt((buffer << (5 - bits)) & 31);
  return out;
}

export function hashString(s: string): string {
  return zbase32(createHash("sha1").update(s, "utf8").digest()).slice(0, 5);
}
