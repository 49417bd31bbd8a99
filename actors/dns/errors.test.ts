// DNS's errors carry stable codes (docs/errors.md) where they are raised, and are one family.
import { describe, expect, it } from "@jest/globals";
import { ZoneBoard } from "./board.js";
import { DNS_ERROR_CODES, DnsError, ExchangeError, ForwardFailedError, ForwarderUnavailableError, PacketError, UdpEngineUnavailableError, UpstreamParseError, ZoneGenerationError } from "./errors.js";
import { readHeader } from "./forward/packet.js";
import { parseUpstream } from "./forward/upstream.js";

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe("dns errors", () => {
  it("the forwarder's border errors have codes", () => {
    expect(thrown(() => readHeader(Buffer.alloc(4)))).toMatchObject({ name: "PacketError", code: "DCNET_E_DNS_PACKET" });
    expect(thrown(() => parseUpstream("dns.example"))).toMatchObject({ name: "UpstreamParseError", code: "DCNET_E_DNS_UPSTREAM" });
    const e = new ExchangeError("timeout", "udp 10.0.0.1:53: no reply within 2000 ms");
    expect(e).toMatchObject({ name: "ExchangeError", code: "DCNET_E_DNS_EXCHANGE", reason: "timeout" });
  });

  it("a stale zone set is refused with a code, and the board keeps the current one", () => {
    const board = new ZoneBoard();
    board.publish({ generation: 2, zones: new Map() });
    const err = thrown(() => board.publish({ generation: 2, zones: new Map() }));
    expect(err).toBeInstanceOf(ZoneGenerationError);
    expect(err).toMatchObject({ code: "DCNET_E_DNS_ZONE_GENERATION" });
    expect(board.current.generation).toBe(2);
  });

  it("every class is a DnsError with one of the listed codes", () => {
    const all = [new PacketError("x"), new ExchangeError("error", "x"), new UpstreamParseError("x"), new ForwarderUnavailableError(), new ForwardFailedError("x"), new UdpEngineUnavailableError("x"), new ZoneGenerationError("x")];
    for (const e of all) {
      expect(e).toBeInstanceOf(DnsError);
      expect(Object.values(DNS_ERROR_CODES)).toContain(e.code);
    }
    expect(new Set(all.map((e) => e.code)).size).toBe(all.length);
  });
});
