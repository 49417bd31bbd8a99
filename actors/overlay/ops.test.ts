import { afterEach, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OpContext } from "../admin/ops.js";
import { formatOverlayStatus, overlayLeases } from "./ops.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("overlay admin ops", () => {
  it("overlay leases lists what dcnet-cni leased, skipping its bookkeeping files and counting broken ones", async () => {
    dir = mkdtempSync(join(tmpdir(), "dcnet-leases-"));
    mkdirSync(join(dir, "dcos"));
    writeFileSync(join(dir, "dcos", "9.0.7.3"), `${JSON.stringify({ containerId: "c1", ifname: "eth0", netns: "/var/run/netns/c1" })}\n`);
    writeFileSync(join(dir, "dcos", "fd01:b::7:0:0:3"), `${JSON.stringify({ containerId: "c1", ifname: "eth0" })}\n`);
    writeFileSync(join(dir, "dcos", "9.0.7.4"), "{half");
    writeFileSync(join(dir, "dcos", "last_reserved.ip"), "9.0.7.4");
    const ctx = { config: { id: "n1", overlay: { cniStateDir: dir, name: "dcos" } } } as unknown as OpContext;
    const r = await overlayLeases.handle({}, ctx);
    expect(r.leases).toEqual([
      { address: "9.0.7.3", containerId: "c1", ifname: "eth0", netns: "/var/run/netns/c1" },
      { address: "fd01:b::7:0:0:3", containerId: "c1", ifname: "eth0" },
    ]);
    expect(r.unreadable).toBe(1);
    expect(overlayLeases.human(r, 0)).toMatch(/9\.0\.7\.3\s+c1\s+eth0\s+\/var\/run\/netns\/c1/);
  });

  it("overlay status prints own subnet, peers, their path (VXLAN or direct) and states", () => {
    const text = formatOverlayStatus({
      node: "n1",
      enabled: true,
      own: { node: "n1", agentIp: "10.0.0.1", vtepIp: "44.128.0.7", vtepMac: "70:b3:d5:80:00:07", subnet: "9.0.7.0/24" },
      mtu: 1450,
      peers: [
        { node: "n2", agentIp: "10.0.0.2", vtepIp: "44.128.0.8", subnet: "9.0.8.0/24", state: "programmed", path: "direct" },
        { node: "n4", agentIp: "10.1.0.4", vtepIp: "44.128.0.9", subnet: "9.0.4.0/24", state: "programmed", path: "vxlan" },
        { node: "n3", agentIp: "10.0.0.3", vtepIp: "44.128.0.7", subnet: "9.0.9.0/24", state: "skipped", reason: "vtep-collision: 44.128.0.7 is also n1's" },
      ],
      repairs: 2,
    });
    expect(text).toMatch(/subnet 9\.0\.7\.0\/24\s+vtep 44\.128\.0\.7 70:b3:d5:80:00:07\s+underlay 10\.0\.0\.1\s+mtu 1450/);
    expect(text).toMatch(/n2\s+10\.0\.0\.2\s+44\.128\.0\.8\s+9\.0\.8\.0\/24\s+direct\s+programmed/);
    expect(text).toMatch(/n4\s+10\.1\.0\.4\s+44\.128\.0\.9\s+9\.0\.4\.0\/24\s+vxlan\s+programmed/);
    expect(text).toMatch(/n3 .* - +skipped \(vtep-collision/);
    expect(text).toMatch(/n3 .*skipped \(vtep-collision/);
    expect(formatOverlayStatus({ node: "n1", enabled: false, peers: [], repairs: 0 })).toBe("overlay is off on n1 (overlay.enabled: false)");
  });
});
