// dcos-dns label mangling: a line-for-line port of `mesos_state:label/1` and `domain_frag/1`
// (dcos/mesos_state src/mesos_state.erl), which dcos-net applies to task and framework names
// (dcos_dns_mesos.erl format_name/2), to custom CNAME names (dcos_dns_sup.erl record/2) and to
// named VIPs (dcos_l4lb_lashup_vip_listener.erl to_name/1). The one copy for DNS and VIP names.
// It is NOT Mesos-DNS's RFC 1123 function (dns/mesos-dns/labels.ts): after the 63-character cut
// this one drops every `-` while refilling, Mesos-DNS keeps them, so long names can differ.

const MAX = 63;

const isAlnum = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
const isDashLike = (c: number): boolean => c === 0x2d || c === 0x5f || c === 0x2e; // - _ .

function stripTrailingDashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x2d) end--;
  return s.slice(0, end);
}

/**
 * One DNS label from any string: `A-Z` lower-cased; `[a-z0-9]` kept; `-`, `_`, `.` become `-`
 * once the first letter or digit has been seen (dropped before it); everything else (incl.
 * non-ASCII) dropped; at 63 characters trailing `-` are stripped and the remaining budget is
 * refilled with letters and digits only; trailing `-` stripped. May return "" (e.g. for "_-.").
 */
export function dcosLabel(input: string): string {
  // The Erlang clauses, in order: start → middle on the first alnum; middle with > 62
  // characters → strip trailing `-` and terminate; terminate with exactly 63 → stop.
  let state: "start" | "middle" | "terminate" = "start";
  let acc = "";
  let i = 0;
  while (i < input.length) {
    let c = input.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (state === "start") {
      if (!isAlnum(c)) {
        i++;
        continue;
      }
      state = "middle";
    }
    if (state === "middle" && acc.length > MAX - 1) {
      acc = stripTrailingDashes(acc);
      state = "terminate";
      continue; // the same character is looked at again in the new state
    }
    if (state === "terminate" && acc.length === MAX) break;
    if (state === "middle" && isDashLike(c)) acc += "-";
    else if (isAlnum(c)) acc += String.fromCharCode(c);
    i++;
  }
  return stripTrailingDashes(acc);
}

/** mesos_state:domain_frag/1 — split on `.`, drop empty fragments, mangle each with dcosLabel, rejoin. */
export function dcosDomainFrag(name: string): string {
  return name
    .split(".")
    .filter((f) => f.length > 0)
    .map(dcosLabel)
    .join(".");
}
