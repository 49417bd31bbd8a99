// Domain names between wire and presentation form. The question name is walked here rather than
// by dns-packet so that every bound is explicit (see README: dns-packet's decoder is safe against
// pointer loops, but it decodes labels as UTF-8, which is lossy, and does not escape dots).
import { HEADER_LEN, MAX_LABEL, MAX_NAME_WIRE } from "./codes.js";

type NameRead = { readonly name: string; readonly next: number } | { readonly problem: string };

// A 255-octet name has at most 127 labels, so a longer pointer chain cannot be a real name.
const MAX_POINTERS = 127;

/**
 * Reads the name at `start`, following compression pointers. A pointer must point strictly before
 * the start of the label run it ends (so runs strictly move backwards and the walk terminates),
 * and never into the header. `end` bounds every read.
 */
export function readName(buf: Buffer, start: number, end: number): NameRead {
  const labels: string[] = [];
  let pos = start;
  let runStart = start;
  let next = -1;
  let wire = 1;
  let hops = 0;
  for (;;) {
    if (pos >= end) return { problem: "name runs past the end of the message" };
    const len = buf[pos] ?? 0;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= end) return { problem: "compression pointer cut off" };
      const target = ((len & 0x3f) << 8) | (buf[pos + 1] ?? 0);
      if (target >= runStart) return { problem: `compression pointer to ${target} does not point backwards` };
      if (target < HEADER_LEN) return { problem: `compression pointer to ${target} points into the header` };
      if (++hops > MAX_POINTERS) return { problem: "too many compression pointers" };
      if (next < 0) next = pos + 2;
      pos = runStart = target;
      continue;
    }
    if (kind !== 0) return { problem: `label type 0x${kind.toString(16)} is not supported (length byte ${len} > ${MAX_LABEL})` };
    if (pos + 1 + len > end) return { problem: "label runs past the end of the message" };
    wire += len + 1;
    if (wire > MAX_NAME_WIRE) return { problem: `name longer than ${MAX_NAME_WIRE} bytes` };
    labels.push(labelText(buf, pos + 1, len));
    pos += len + 1;
  }
  return { name: labels.length === 0 ? "." : labels.join("."), next };
}

function isPlain(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c;
}

/** One label in presentation form: printable ASCII as is, ".", "\" escaped, other bytes `\DDD`. */
function labelText(buf: Buffer, from: number, len: number): string {
  const to = from + len;
  let i = from;
  while (i < to && isPlain(buf[i] ?? 0)) i++;
  if (i === to) return buf.toString("latin1", from, to);
  let out = buf.toString("latin1", from, i);
  for (; i < to; i++) {
    const c = buf[i] ?? 0;
    if (isPlain(c)) out += String.fromCharCode(c);
    else if (c === 0x2e || c === 0x5c) out += "\\" + String.fromCharCode(c);
    else out += "\\" + String(c).padStart(3, "0");
  }
  return out;
}

/** Offsets where each label of a presentation name starts; [] for the root. Escape aware. */
export function labelStarts(name: string): number[] {
  if (name === "." || name === "") return [];
  const starts = [0];
  if (!name.includes("\\")) {
    for (let i = name.indexOf("."); i >= 0 && i < name.length - 1; i = name.indexOf(".", i + 1)) starts.push(i + 1);
    return starts;
  }
  for (let i = 0; i < name.length - 1; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c) i += /\d/.test(name.charAt(i + 1)) ? 3 : 1;
    else if (c === 0x2e) starts.push(i + 1);
  }
  return starts;
}

/** ASCII-only lower-casing (RFC 4343); presentation names here are ASCII by construction. */
export function lowerAscii(name: string): string {
  return /[A-Z]/.test(name) ? name.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : name;
}

/** True when `name` is `origin` or below it on a label boundary (both lower-case). */
export function isAtOrBelow(name: string, origin: string): boolean {
  if (name.length === origin.length) return name === origin;
  if (name.length < origin.length || !name.endsWith(origin)) return false;
  const cut = name.length - origin.length;
  // "a\.mesos" ends with ".mesos" but is one label: the dot must not be escaped.
  return name.charCodeAt(cut - 1) === 0x2e && (!name.includes("\\") || labelStarts(name).includes(cut));
}

/** The raw bytes of one presentation label, escapes resolved. */
export function labelBytes(label: string): Buffer {
  if (!label.includes("\\")) return Buffer.from(label, "utf8");
  const bytes: number[] = [];
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c !== 0x5c) {
      bytes.push(...Buffer.from(label.charAt(i), "utf8"));
    } else if (/^\d{3}$/.test(label.slice(i + 1, i + 4))) {
      bytes.push(Number(label.slice(i + 1, i + 4)) & 0xff);
      i += 3;
    } else {
      bytes.push(label.charCodeAt(i + 1) & 0xff);
      i += 1;
    }
  }
  return Buffer.from(bytes);
}

/** The labels of a presentation name, escapes kept; [] for the root. */
export function labelsOf(name: string): string[] {
  const starts = labelStarts(name);
  return starts.map((s, i) => name.slice(s, i + 1 < starts.length ? (starts[i + 1] ?? name.length) - 1 : name.length));
}
