import { describe, expect, it } from "@jest/globals";
import { encodeOutcome, MAGIC, parseCall } from "./wire.js";

const call = (env: string[], stdin: string): Buffer => Buffer.concat([Buffer.from(MAGIC), ...env.map((e) => Buffer.from(`${e}\0`)), Buffer.from("\0"), Buffer.from(stdin)]);

describe("the front end's call format", () => {
  it("reads the CNI_* environment and stdin as the front end sends them", () => {
    const r = parseCall(call(["CNI_COMMAND=ADD", "CNI_CONTAINERID=c1", "CNI_ARGS=A=1;B=x=y"], '{"cniVersion":"1.0.0"}'));
    expect(r).toEqual({ ok: true, env: { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c1", CNI_ARGS: "A=1;B=x=y" }, stdin: '{"cniVersion":"1.0.0"}' });
  });

  it("refuses what the front end does not send: another magic, a cut environment, a variable that is not CNI_*", () => {
    expect(parseCall(Buffer.from("GET / HTTP/1.1\r\n"))).toMatchObject({ ok: false, error: expect.stringMatching(/bad magic/) });
    expect(parseCall(Buffer.from(`${MAGIC}CNI_COMMAND=ADD`))).toMatchObject({ ok: false, error: expect.stringMatching(/truncated/) });
    expect(parseCall(call(["LD_PRELOAD=/x.so"], ""))).toMatchObject({ ok: false, error: expect.stringMatching(/bad environment entry/) });
  });

  it("answers stdout, stderr and the exit code in the order the front end reads them", () => {
    const b = encodeOutcome({ exit: 1, stdout: "out✓", stderr: "err" });
    const outLen = b.readUInt32BE(0);
    expect(b.subarray(4, 4 + outLen).toString()).toBe("out✓");
    expect(b.readUInt32BE(4 + outLen)).toBe(3);
    expect(b.subarray(8 + outLen, 11 + outLen).toString()).toBe("err");
    expect(b[b.length - 1]).toBe(1);
  });
});
