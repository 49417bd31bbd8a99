// The kernel read back (`nft -j list table <family> dcnet-l4lb`) and compared with the desired
// state: dcos-net never read IPVS back (dcos-net.md §11); we do, and repair. Elements are compared
// as nft text (elements.ts); the fixed part of the table (sets, chains, rules) as a structural
// signature, so any hand edit of a rule or chain is replaced by a full reload.
import type { DesiredState, Family } from "../model.js";
import { diffElements, renderOps, stateElements, type Element, type SetName } from "./elements.js";
import { canonicalIp } from "./ip.js";
import { chainsOf, families, familyWords, renderFull, setsOf, type RenderOptions, type Rule } from "./nft.js";

export interface ObservedKernel {
  readonly family: Family;
  readonly table: string;
  /** Sets, maps, chains and their rules, one sorted line each (no elements, no handles). */
  readonly structure: string;
  readonly elements: readonly Element[];
  /** Elements that could not be read; compareKernel then replaces the table. */
  readonly problems: readonly string[];
}

export interface KernelComparison {
  /** Wrong, missing and extra elements (a table missing or rebuilt counts at least 1). */
  readonly drift: number;
  /** nft text that brings the kernel to the desired state; "" when there is no drift. */
  readonly repair: string;
  /** The repair is renderFull: a table is missing or its sets, chains or rules differ. */
  readonly full: boolean;
  /** Why a full repair, for the log. */
  readonly reasons: readonly string[];
}

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);
const SET_NAMES: ReadonlySet<string> = new Set<SetName>(["vips", "backends", "unavailable", "hairpin"]);

/** Reads one table's listing. Never throws: anything unexpected is a problem or a structural difference. */
export function parseKernel(json: Json): ObservedKernel | { problem: string } {
  try {
    return parse(json);
  } catch (e) {
    return { problem: `unreadable listing: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function parse(json: Json): ObservedKernel | { problem: string } {
  const items = isObj(json) ? json["nftables"] : undefined;
  if (!Array.isArray(items)) return { problem: "not an nft JSON listing (no nftables array)" };
  const table = items.map((i) => (isObj(i) ? i["table"] : undefined)).find(isObj);
  const family = table?.["family"];
  if (!table || (family !== "ip" && family !== "ip6")) return { problem: "no ip or ip6 table in the listing" };
  const lines: string[] = [];
  const rules = new Map<string, string[]>();
  const elements: Element[] = [];
  const problems: string[] = [];
  for (const item of items) {
    if (!isObj(item)) continue;
    for (const [kind, body] of Object.entries(item)) {
      if (kind === "metainfo" || kind === "table" || !isObj(body)) continue;
      if (kind === "set" || kind === "map") {
        lines.push(setLine(kind, body));
        readElements(family, body, elements, problems);
      } else if (kind === "chain") lines.push(chainLine(body));
      else if (kind === "rule") {
        const chain = String(body["chain"]);
        const list = rules.get(chain) ?? [];
        list.push(summarize(body["expr"]));
        rules.set(chain, list);
      } else lines.push(`${kind} ${String(body["name"])}`);
    }
  }
  const structure = lines.map((l) => (l.startsWith("chain ") ? `${l} | ${(rules.get(l.split(" ")[1] ?? "") ?? []).join(" | ")}` : l)).sort();
  return { family, table: String(table["name"]), structure: structure.join("\n"), elements, problems };
}

function typeText(t: Json): string {
  return Array.isArray(t) ? t.map(String).join(" . ") : String(t);
}

function setLine(kind: string, s: Record<string, Json>): string {
  const flags = Array.isArray(s["flags"]) ? ` flags ${s["flags"].map(String).join(",")}` : "";
  return `${kind} ${String(s["name"])} ${typeText(s["type"])}${kind === "map" ? ` : ${typeText(s["map"])}` : ""}${flags}`;
}

function chainLine(c: Record<string, Json>): string {
  const hook = c["hook"] === undefined ? "" : ` ${String(c["type"])} ${String(c["hook"])} ${String(c["prio"])} ${String(c["policy"])}`;
  return `chain ${String(c["name"])}${hook}`;
}

/** Canonical text of a rule's expressions: keys sorted, defaults nft may or may not print dropped. */
export function summarize(expr: Json): string {
  return JSON.stringify(normalize(expr));
}

function normalize(v: Json): Json {
  if (Array.isArray(v)) return v.map(normalize);
  if (!isObj(v)) return v;
  const out: Record<string, Json> = {};
  for (const k of Object.keys(v).sort()) {
    if ((k === "offset" || k === "seed") && v[k] === 0) continue;
    out[k] = normalize(v[k]);
  }
  return out;
}

function readElements(family: Family, s: Record<string, Json>, out: Element[], problems: string[]): void {
  const name = String(s["name"]);
  const elem = s["elem"];
  if (elem === undefined || !SET_NAMES.has(name)) return;
  if (!Array.isArray(elem)) return void problems.push(`${name}: elements are not a list`);
  for (const raw of elem) {
    const e = readElement(family, name as SetName, raw);
    if (e) out.push(e);
    else problems.push(`${name}: unreadable element ${JSON.stringify(raw)?.slice(0, 120)}`);
  }
}

/** `{ "elem": { "val": … } }` is how nft wraps an element with counters or timeouts. */
function unwrap(v: Json): Json {
  return isObj(v) && isObj(v["elem"]) ? v["elem"]["val"] : v;
}

function readElement(family: Family, set: SetName, raw: Json): Element | undefined {
  const isMap = set === "vips" || set === "backends";
  const [k, val] = isMap ? (Array.isArray(raw) && raw.length === 2 ? [unwrap(raw[0]), raw[1]] : [undefined, undefined]) : [unwrap(raw), undefined];
  const parts = isObj(k) && Array.isArray(k["concat"]) ? k["concat"] : undefined;
  if (!parts) return undefined;
  if (set === "hairpin") {
    const [a, b] = parts.map((p) => addr(family, p));
    return parts.length === 2 && a && b ? { set, key: `${a} . ${b}` } : undefined;
  }
  const vip = vipKey(family, parts.slice(0, 3));
  if (!vip) return undefined;
  if (set === "unavailable") return parts.length === 3 ? { set, key: vip } : undefined;
  if (set === "vips") {
    const target = isObj(val) && isObj(val["goto"]) ? val["goto"]["target"] : undefined;
    return parts.length === 3 && typeof target === "string" ? { set, key: vip, value: `goto ${target}` } : undefined;
  }
  const index = parts[3];
  const to = isObj(val) && Array.isArray(val["concat"]) ? val["concat"] : undefined;
  const toAddr = to ? addr(family, to[0]) : undefined;
  if (parts.length !== 4 || !isIndex(index) || !to || to.length !== 2 || !toAddr || !isPort(to[1])) return undefined;
  return { set, key: `${vip} . ${index}`, value: `${toAddr} . ${to[1]}` };
}

function vipKey(family: Family, p: readonly Json[]): string | undefined {
  const a = addr(family, p[0]);
  const proto = p[1] === 6 ? "tcp" : p[1] === 17 ? "udp" : p[1];
  return a && (proto === "tcp" || proto === "udp") && isPort(p[2]) ? `${a} . ${proto} . ${p[2]}` : undefined;
}

function addr(family: Family, v: Json): string | undefined {
  const ip = canonicalIp(v);
  return ip && ip.family === family ? ip.text : undefined;
}

const isPort = (v: Json): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 65535;
const isIndex = (v: Json): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

/** How nft 1.0.6 lists a rule of ours in JSON (captured: render/fixtures/); compared through summarize. */
export function ruleJson(rule: Rule, family: Family): Json {
  const { proto: p, icmp } = familyWords(family);
  const payload = (protocol: string, field: string) => ({ payload: { protocol, field } });
  const l4proto = { meta: { key: "l4proto" } };
  const dispatch = [payload(p, "daddr"), l4proto, payload("th", "dport")];
  switch (rule.kind) {
    case "dnat-map": {
      const pick = rule.selection === "random" ? { numgen: { mode: "random", mod: rule.n } } : { jhash: { mod: rule.n, expr: payload(p, "saddr") } };
      return [
        { match: { op: "==", left: l4proto, right: { set: ["tcp", "udp"] } } },
        { dnat: { family: p, addr: { map: { key: { concat: [...dispatch, pick] }, data: "@backends" } } } },
      ];
    }
    case "dispatch":
      return [{ vmap: { key: { concat: dispatch }, data: "@vips" } }];
    case "hairpin-masquerade":
      return [
        { match: { op: "in", left: { ct: { key: "status" } }, right: "dnat" } },
        { match: { op: "==", left: { concat: [payload(p, "saddr"), payload(p, "daddr")] }, right: "@hairpin" } },
        { masquerade: null },
      ];
    case "reject-unavailable":
      return [{ match: { op: "==", left: { concat: dispatch }, right: "@unavailable" } }, { goto: { target: "reject-vip" } }];
    case "reject-tcp":
      // nft lists `meta l4proto tcp reject with tcp reset` without the match it implies.
      return [{ reject: { type: "tcp reset" } }];
    case "reject-other":
      return [{ reject: { type: icmp, expr: "port-unreachable" } }];
  }
}

/** The structure parseKernel reads from a table renderFull made (same options). */
export function expectedStructure(family: Family, opts: Pick<RenderOptions, "selection" | "maxBackends">): string {
  const { addrType: a } = familyWords(family);
  const listed: Record<string, string> = {
    vips: `map vips ${a} . inet_proto . inet_service : verdict`,
    backends: `map backends ${a} . inet_proto . inet_service . integer : ${a} . inet_service`,
    hairpin: `set hairpin ${a} . ${a}`,
    unavailable: `set unavailable ${a} . inet_proto . inet_service`,
  };
  const lines = setsOf(family).map((s) => listed[s.name] ?? s.name);
  for (const c of chainsOf(opts)) {
    const hook = c.hook ? ` ${c.hook.type} ${c.hook.hook} ${c.hook.priority} accept` : "";
    lines.push(`chain ${c.name}${hook} | ${c.rules.map((r) => summarize(ruleJson(r, family))).join(" | ")}`);
  }
  return lines.sort().join("\n");
}

/**
 * Observed tables against the desired state. Element drift is repaired with element operations;
 * a missing table, unreadable elements or any other difference (a chain, rule, set declaration)
 * with renderFull.
 */
export function compareKernel(observed: { readonly ip?: ObservedKernel; readonly ip6?: ObservedKernel }, desired: DesiredState, opts: RenderOptions): KernelComparison {
  const reasons: string[] = [];
  const texts: string[] = [];
  let drift = 0;
  for (const f of families(opts)) {
    const o = observed[f];
    const want = stateElements(desired, f, opts.maxBackends);
    if (!o) {
      reasons.push(`table ${f} ${opts.table} is missing`);
      drift += Math.max(1, want.length);
      continue;
    }
    if (o.table !== opts.table || o.family !== f) reasons.push(`listing is of table ${o.family} ${o.table}, not ${f} ${opts.table}`);
    else if (o.structure !== expectedStructure(f, opts)) reasons.push(`table ${f} ${opts.table}: sets, chains or rules differ from what dcnet renders`);
    if (o.problems.length > 0) reasons.push(`table ${f} ${opts.table}: ${o.problems.length} unreadable element(s), first: ${o.problems[0] ?? ""}`);
    const d = diffElements(o.elements, want);
    const replaced = new Set(d.adds.map((e) => `${e.set} ${e.key}`));
    drift += d.adds.length + d.deletes.filter((e) => !replaced.has(`${e.set} ${e.key}`)).length;
    texts.push(renderOps(f, opts.table, d));
  }
  if (reasons.length > 0) return { drift: Math.max(1, drift), repair: renderFull(desired, opts), full: true, reasons };
  return { drift, repair: texts.join(""), full: false, reasons };
}
