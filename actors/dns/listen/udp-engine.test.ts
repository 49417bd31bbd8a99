// Engine choice: what runs where, and a demanded engine that cannot run is a clear error.
import { describe, expect, it } from "@jest/globals";
import { selectUdpEngine } from "./udp-engine.js";

describe("selectUdpEngine", () => {
  it("auto and batch take the native engine on Linux when the addon is built (npm ci builds it)", () => {
    expect(selectUdpEngine("auto")).toMatchObject({ engine: "batch" });
    expect(selectUdpEngine("batch")).toMatchObject({ engine: "batch" });
  });

  it("dgram is taken when asked for", () => {
    expect(selectUdpEngine("dgram")).toEqual({ engine: "dgram", why: "dns.udpEngine is dgram" });
  });

  it("elsewhere auto falls back to dgram with the reason, and batch is refused with it", () => {
    expect(selectUdpEngine("auto", "darwin")).toEqual({ engine: "dgram", why: "the native batch engine is unavailable: recvmmsg/sendmmsg are Linux only (this is darwin)" });
    expect(selectUdpEngine("batch", "darwin")).toEqual({ error: expect.stringMatching(/^dns\.udpEngine is batch but the native batch engine is unavailable: recvmmsg\/sendmmsg are Linux only/) });
  });
});
