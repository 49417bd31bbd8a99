// Go net.ParseIP / SplitHostPort parity for the cases the generator meets.
import { describe, expect, it } from "@jest/globals";
import { joinHostPort, parseIp, splitHostPort } from "./ip.js";
import { parsePid, parsePorts } from "./state.js";

describe("parseIp", () => {
  it.each([
    ["1.2.3.4", { text: "1.2.3.4", family: 4 }],
    ["FD01:B:0:0:1:8000:0:2", { text: "fd01:b::1:8000:0:2", family: 6 }],
    ["0:0:1:0:0:0:1:0", { text: "0:0:1::1:0", family: 6 }],
    ["::ffff:1.2.3.4", { text: "1.2.3.4", family: 4 }],
    ["2001:db8::1", { text: "2001:db8::1", family: 6 }],
  ])("%s", (input, out) => expect(parseIp(input)).toEqual(out));

  it.each(["", "localhost", "1.2.3", "01.2.3.4", "256.1.1.1", "fe80::1%eth0", "[::1]", "1.2.3.4 "])(
    "rejects %j",
    (input) => expect(parseIp(input)).toBeUndefined(),
  );
});

describe("host:port", () => {
  it("splits and joins like Go", () => {
    expect(splitHostPort("1.2.3.4:5050")).toEqual({ host: "1.2.3.4", port: "5050" });
    expect(splitHostPort("[2001:db8::1]:5051")).toEqual({ host: "2001:db8::1", port: "5051" });
    expect(splitHostPort("2001:db8::1")).toBeUndefined();
    expect(splitHostPort("nohost")).toBeUndefined();
    expect(joinHostPort("a.mesos.", "80")).toBe("a.mesos.:80");
    expect(joinHostPort("::1", "80")).toBe("[::1]:80");
  });

  it("parses agent PIDs with stray spaces and quotes (state_test.go)", () => {
    expect(parsePid(' "slave(1)@127.0.0.1:5051" ')).toEqual({ host: "127.0.0.1", port: "5051" });
    expect(parsePid("slave(1)@[2001:db8::1]:5051")).toEqual({ host: "2001:db8::1", port: "5051" });
    expect(parsePid("no-at-sign")).toBeUndefined();
  });

  it("expands port ranges", () => {
    expect(parsePorts("[31111-31111, 31115-31117]")).toEqual(["31111", "31115", "31116", "31117"]);
    expect(parsePorts("[]")).toEqual([]);
    expect(parsePorts("")).toEqual([]);
  });
});
