// rcodeName must name header RCODEs exactly as dns-packet decodes them: the forwarder's metrics
// labels and the rcodes of our own answers are compared as strings.
import { describe, expect, it } from "@jest/globals";
import { rcodeName } from "./codes.js";
import { decode } from "../../../testkit/dns/wire.js";

describe("rcodeName", () => {
  it("agrees with dns-packet for every 4-bit RCODE", () => {
    for (let rcode = 0; rcode < 16; rcode++) {
      const header = Buffer.alloc(12);
      header.writeUInt16BE(0x8000 | rcode, 2);
      expect(rcodeName(rcode)).toBe(decode(header).rcode);
    }
  });
});
