import { describe, expect, it } from "@jest/globals";
import { InvalidNamedRangeError } from "./errors.js";
import { describeRange, namedRangeProblem, parseNamedRange, rangeSize } from "./range.js";

describe("named-VIP ranges", () => {
  it("reads dcos-net's default ranges", () => {
    const v4 = parseNamedRange({ min: "11.0.0.0", max: "11.255.255.254" }, "ip");
    expect(rangeSize(v4)).toBe(2n ** 24n - 1n);
    expect(describeRange(v4)).toBe("11.0.0.0–11.255.255.254");
    const v6 = parseNamedRange({ min: "fd01:c::", max: "fd01:c::ffff:ffff:ffff:ffff" }, "ip6");
    expect(rangeSize(v6)).toBe(2n ** 64n);
    expect(parseNamedRange({ min: "11.0.0.7", max: "11.0.0.7" })).toMatchObject({ family: "ip", min: 0x0b000007n, max: 0x0b000007n });
  });

  it.each([
    [{ min: "11.0.0.9", max: "11.0.0.1" }, undefined, "min is above max"],
    [{ min: "11.0.0.0", max: "fd01:c::" }, undefined, "min and max are of different families"],
    [{ min: "eleven", max: "11.0.0.1" }, undefined, 'min "eleven" is not an IP address'],
    [{ min: "11.0.0.0", max: "11.0.0.0/8" }, undefined, 'max "11.0.0.0/8" is not an IP address'],
    [{ min: "fd01:c::", max: "fd01:c::1" }, "ip", "expected IPv4 addresses"],
    [{ min: "11.0.0.0", max: "11.0.0.1" }, "ip6", "expected IPv6 addresses"],
  ] as const)("%j (%s) is refused: %s", (r, family, reason) => {
    expect(namedRangeProblem(r, family)).toBe(reason);
    let err: unknown;
    try {
      parseNamedRange(r, family);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidNamedRangeError);
    expect(err).toMatchObject({ code: "DCNET_E_L4LB_NAMED_RANGE", name: "InvalidNamedRangeError", reason, message: `named-VIP range ${r.min}–${r.max}: ${reason}` });
  });
});
