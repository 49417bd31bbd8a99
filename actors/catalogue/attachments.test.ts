import { afterEach, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readAttachments } from "./attachments.js";

describe("readAttachments (dcnet-cni's lease folder)", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("groups the leased addresses by container, IPv4 first; skips what is not a lease and counts what cannot be read", async () => {
    dir = mkdtempSync(join(tmpdir(), "dcnet-att-"));
    const lease = (containerId: string) => JSON.stringify({ containerId, ifname: "eth0", netns: "/var/run/netns/x" });
    writeFileSync(join(dir, "fd01:b::1:0:0:5"), lease("c1"));
    writeFileSync(join(dir, "9.0.0.5"), lease("c1"));
    writeFileSync(join(dir, "9.0.0.6"), lease("c2"));
    writeFileSync(join(dir, "9.0.0.7"), "{half a le");
    writeFileSync(join(dir, "last_reserved.ip4"), "9.0.0.7");
    writeFileSync(join(dir, ".tmp-123"), lease("c3"));
    const r = await readAttachments(dir);
    expect(Object.fromEntries(r.attachments)).toEqual({ c1: ["9.0.0.5", "fd01:b::1:0:0:5"], c2: ["9.0.0.6"] });
    expect(r.unreadable).toBe(1);
  });

  it("a folder the plugin has not made yet is no attachment, not an error", async () => {
    expect((await readAttachments(join(tmpdir(), "dcnet-att-none", "dcos"))).attachments.size).toBe(0);
  });
});
