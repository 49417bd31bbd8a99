import { describe, expect, it } from "@jest/globals";
import { BucketIndex, BUCKETS, EMPTY_BUCKET, bucketOf, diffBuckets, fnv1a32, fnv1a64, hex64, keyHash } from "./buckets.js";

describe("fnv1a", () => {
  it("matches the published FNV-1a test vectors (UTF-8 bytes)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    expect(hex64(fnv1a64(""))).toBe("cbf29ce484222325");
    expect(hex64(fnv1a64("a"))).toBe("af63dc4c8601ec8c");
    expect(hex64(fnv1a64("foobar"))).toBe("85944171f73967e8");
  });

  it("hashes non-ASCII keys by their UTF-8 bytes (same as any other implementation)", () => {
    // python: FNV-1a over "héllo€😀".encode()
    expect(hex64(fnv1a64("héllo€😀"))).toBe("290d35ecf004faad");
    expect(fnv1a32("héllo€😀")).toBe(0x3dbc432d);
  });

  it("spreads keys over all 64 buckets", () => {
    const counts = new Array<number>(BUCKETS).fill(0);
    for (let i = 0; i < 6400; i++) {
      const b = bucketOf(`dns/zones/task-${i}.marathon.mesos`);
      counts[b] = (counts[b] ?? 0) + 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(160);
  });
});

describe("BucketIndex", () => {
  it("starts with 64 empty buckets", () => {
    const idx = new BucketIndex();
    expect(idx.digest()).toEqual(new Array(BUCKETS).fill(EMPTY_BUCKET));
  });

  it("is independent of the order keys were added, and toggling twice removes a key", () => {
    const keys = Array.from({ length: 200 }, (_, i) => [`k${i}`, `h${i * 7}`] as const);
    const a = new BucketIndex();
    const b = new BucketIndex();
    for (const [k, h] of keys) a.toggle(bucketOf(k), keyHash(k, h));
    for (const [k, h] of [...keys].reverse()) b.toggle(bucketOf(k), keyHash(k, h));
    expect(a.digest()).toEqual(b.digest());
    const [k0, h0] = keys[0] as readonly [string, string];
    a.toggle(bucketOf(k0), keyHash(k0, h0));
    const changed = diffBuckets(a.digest(), b.digest());
    expect(changed).toEqual([bucketOf(k0)]);
    a.toggle(bucketOf(k0), keyHash(k0, h0));
    expect(diffBuckets(a.digest(), b.digest())).toEqual([]);
  });

  it("distinguishes the same state hash under different keys", () => {
    expect(keyHash("a", "x")).not.toEqual(keyHash("b", "x"));
    expect(keyHash("ab", "c")).not.toEqual(keyHash("a", "bc"));
  });

  it("tracks bucket members for serving pulls", () => {
    const idx = new BucketIndex();
    idx.addMember(3, "x");
    idx.addMember(3, "y");
    idx.removeMember(3, "x");
    expect([...idx.members(3)]).toEqual(["y"]);
    expect(idx.members(4).size).toBe(0);
  });
});

describe("diffBuckets", () => {
  it("lists differing buckets in ascending order", () => {
    const mine = new Array<string>(BUCKETS).fill(EMPTY_BUCKET);
    const theirs = [...mine];
    theirs[5] = "0000000000000001";
    theirs[63] = "ffffffffffffffff";
    expect(diffBuckets(mine, theirs)).toEqual([5, 63]);
    expect(diffBuckets(mine, mine)).toEqual([]);
  });
});
