// The node's side of the compiled front end's socket (native/cni-shim/dcnet-cni.c has the format):
// request = magic line, CNI_* variables as NUL-terminated KEY=VALUE, an empty one, then stdin;
// response = u32 BE stdout length, stdout, u32 BE stderr length, stderr, u8 exit code.
import type { CallOutcome } from "./call.js";

export const MAGIC = "DCNETCNI1\n";

export type ParsedCall = { readonly ok: true; readonly env: Record<string, string>; readonly stdin: string } | { readonly ok: false; readonly error: string };

export function parseCall(buf: Buffer): ParsedCall {
  if (buf.subarray(0, MAGIC.length).toString("latin1") !== MAGIC) return { ok: false, error: "not a dcnet-cni call (bad magic)" };
  const env: Record<string, string> = {};
  let at = MAGIC.length;
  for (;;) {
    const end = buf.indexOf(0, at);
    if (end < 0) return { ok: false, error: "truncated call: the environment does not end" };
    if (end === at) {
      at += 1;
      break;
    }
    const kv = buf.subarray(at, end).toString("utf8");
    const eq = kv.indexOf("=");
    // Only the CNI_* variables are forwarded; anything else is not from the front end.
    if (eq <= 0 || !kv.startsWith("CNI_")) return { ok: false, error: `bad environment entry ${JSON.stringify(kv.slice(0, 40))}` };
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
    at = end + 1;
  }
  return { ok: true, env, stdin: buf.subarray(at).toString("utf8") };
}

export function encodeOutcome(o: CallOutcome): Buffer {
  const out = Buffer.from(o.stdout, "utf8");
  const err = Buffer.from(o.stderr, "utf8");
  const b = Buffer.alloc(4 + out.length + 4 + err.length + 1);
  b.writeUInt32BE(out.length, 0);
  out.copy(b, 4);
  b.writeUInt32BE(err.length, 4 + out.length);
  err.copy(b, 8 + out.length);
  b.writeUInt8(Math.max(0, Math.min(255, o.exit)), 8 + out.length + err.length);
  return b;
}
