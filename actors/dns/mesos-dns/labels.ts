// RFC 952 / RFC 1123 label mangling, byte-for-byte as Mesos-DNS `records/labels` does it
// (shared/reference/dns.md §1.2), so generated names match upstream exactly.

/** A label function: any string in, one DNS label out (possibly empty). */
export type LabelFn = (name: string) => string;

/** Lower-case, keep [a-z0-9], map `-._` to `-`, drop every other byte (incl. non-ASCII). */
function mapBytes(name: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(name)) {
    if (b >= 0x41 && b <= 0x5a) out += String.fromCharCode(b + 32);
    else if ((b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39)) out += String.fromCharCode(b);
    else if (b === 0x2d || b === 0x2e || b === 0x5f) out += "-";
  }
  return out;
}

function trimLeft(s: string, chars: string): string {
  let i = 0;
  while (i < s.length && chars.includes(s.charAt(i))) i++;
  return s.slice(i);
}

function trimRight(s: string, chars: string): string {
  let i = s.length;
  while (i > 0 && chars.includes(s.charAt(i - 1))) i--;
  return s.slice(0, i);
}

/**
 * Upstream's trimCut: cut at `max`, drop trailing `-`; if that shortened the label, skip the
 * `-` run after the cut and refill the budget from what follows (`…d7fddg-123` → `…d7fddg1`).
 */
function trimCut(label: string, max: number): string {
  const size = Math.min(label.length, max);
  const head = trimRight(label.slice(0, size), "-");
  if (head.length === size) return head;
  const tail = trimLeft(label.slice(size), "-");
  return head + tail.slice(0, size - head.length);
}

/** RFC 1123 label: up to 63 bytes, may start with a digit (the Mesos-DNS runtime default). */
export const rfc1123: LabelFn = (name) => trimCut(trimLeft(mapBytes(name), "-"), 63);

/** RFC 952 label: up to 24 bytes, must start with a letter (`EnforceRFC952`, upstream tests). */
export const rfc952: LabelFn = (name) => trimCut(trimLeft(mapBytes(name), "-0123456789"), 24);

/**
 * Mesos-DNS's DomainFrag: label each dot-separated part with `spec`, drop empty parts, re-join — for
 * framework names. Not dcos-net's `mesos_state:domain_frag/1` (the VIP names'): the label rules differ.
 */
export function mesosDnsDomainFrag(name: string, spec: LabelFn): string {
  return name
    .split(".")
    .map(spec)
    .filter((part) => part !== "")
    .join(".");
}
