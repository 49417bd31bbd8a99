import { describe, it, expect, afterEach } from "@jest/globals";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCidr } from "./cidr.js";
import type { Pool } from "./config.js";
import { CniExhaustedError } from "./errors.js";
import { candidates, LeaseStore, ownedBy } from "./ipam.js";

const pool = (s: string, family: "ip" | "ip6" = "ip"): Pool => {
  const cidr = parseCidr(s, family);
  if (typeof cidr === "string") throw new Error(cidr);
  return { cidr, gateway: cidr.base + 1n };
};
const dirs: string[] = [];
const store = (): LeaseStore => {
  const d = mkdtempSync(join(tmpdir(), "dcnet-cni-ipam-"));
  dirs.push(d);
  return new LeaseStore(join(d, "dcos"));
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const rec = (containerId: string, ifname = "eth0") => ({ containerId, ifname, netns: `/var/run/netns/${containerId}` });

describe("cni ipam", () => {
  it("candidates: round-robin after the last reserved, wrapping, never the gateway", () => {
    const p = pool("9.0.7.0/29"); // .1 gateway, .2–.6 containers
    const last = (xs: Iterable<bigint>) => [...xs].map((v) => Number(v & 255n));
    expect(last(candidates(p, undefined))).toEqual([2, 3, 4, 5, 6]);
    expect(last(candidates(p, 0x09000704n))).toEqual([5, 6, 2, 3, 4]);
    expect(last(candidates(p, 0x09000706n))).toEqual([2, 3, 4, 5, 6]);
    expect(last(candidates(p, 0x0a000000n))).toEqual([2, 3, 4, 5, 6]);
  });

  it("leases one file per address holding the attachment; next address after a release, not the freed one", () => {
    const s = store();
    const p = pool("9.0.7.0/25");
    const a = s.reserve(p, rec("a"), new Set());
    const b = s.reserve(p, rec("b"), new Set());
    expect([a, b]).toEqual(["9.0.7.2", "9.0.7.3"]);
    expect(JSON.parse(readFileSync(join(s.dir, a), "utf8"))).toEqual(rec("a"));
    s.release([a]);
    expect(s.reserve(p, rec("c"), new Set())).toBe("9.0.7.4");
    expect(ownedBy(s.scan(), { containerId: "b", ifname: "eth0" }).map((l) => l.ip)).toEqual(["9.0.7.3"]);
    // Nothing but leases and the round-robin hint is left in the directory.
    expect(readdirSync(s.dir).sort()).toEqual(["9.0.7.3", "9.0.7.4", "last_reserved.ip"]);
  });

  it("an address taken by another process since the scan is skipped (link fails with EEXIST)", () => {
    const s = store();
    const p = pool("9.0.7.0/29");
    s.reserve(p, rec("a"), new Set());
    // Another plugin process leased .3 after this one scanned.
    writeFileSync(join(s.dir, "9.0.7.3"), JSON.stringify(rec("other")));
    expect(s.reserve(p, rec("b"), new Set(["9.0.7.2"]))).toBe("9.0.7.4");
    expect(JSON.parse(readFileSync(join(s.dir, "9.0.7.3"), "utf8")).containerId).toBe("other");
  });

  it("exhausted: CniExhaustedError (code 11) naming the subnet, and no file left behind", () => {
    const s = store();
    const p = pool("9.0.7.0/29");
    for (const id of ["a", "b", "c", "d", "e"]) s.reserve(p, rec(id), new Set());
    const before = readdirSync(s.dir).sort();
    expect(() => s.reserve(p, rec("f"), new Set())).toThrow(CniExhaustedError);
    expect(() => s.reserve(p, rec("f"), new Set())).toThrow("subnet 9.0.7.0/29 exhausted");
    expect(readdirSync(s.dir).sort()).toEqual(before);
  });

  it("release is idempotent; scan ignores what is not a lease and keeps unreadable leases as taken", () => {
    const s = store();
    const p = pool("9.0.7.0/29");
    const a = s.reserve(p, rec("a"), new Set());
    s.release([a, a, "9.0.7.6"]);
    writeFileSync(join(s.dir, "9.0.7.5"), "garbage");
    writeFileSync(join(s.dir, "notes.txt"), "x");
    writeFileSync(join(s.dir, "09.0.7.4"), "{}");
    expect(s.scan()).toEqual([{ family: "ip", ip: "9.0.7.5", record: undefined }]);
    expect(new LeaseStore(join(s.dir, "missing")).scan()).toEqual([]);
  });

  it("IPv6: canonical file names, round-robin in a 2^47 pool", () => {
    const s = store();
    const p = pool("fd01:b::7:0:0:0/81", "ip6");
    expect(s.reserve(p, rec("a"), new Set())).toBe("fd01:b::7:0:0:2");
    expect(s.reserve(p, rec("b"), new Set())).toBe("fd01:b::7:0:0:3");
    expect(s.scan().map((l) => [l.family, l.ip]).sort()).toEqual([["ip6", "fd01:b::7:0:0:2"], ["ip6", "fd01:b::7:0:0:3"]]);
  });
});
