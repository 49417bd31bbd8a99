// The decode cache of a shared connection: copies of one message decode once, anything else is its own decode.
import { describe, expect, it } from "@jest/globals";
import { SharedDecodes } from "./shared-decodes.js";
import type { DecodeResult } from "./types.js";

const result = (n: number): DecodeResult<unknown> => ({ ok: false, reason: "undecodable", kind: "unknown", message: String(n) });

describe("SharedDecodes", () => {
  it("decodes copies of one message once, and a different subject, kind list or byte apart on its own", () => {
    const d = new SharedDecodes();
    let calls = 0;
    const dec = () => result(++calls);
    const bytes = (...xs: number[]) => new Uint8Array(xs);
    expect(d.decode("s", "k", bytes(1, 2, 3), dec)).toEqual(result(1));
    expect(d.decode("s", "k", bytes(1, 2, 3), dec)).toEqual(result(1));
    expect(d.decode("t", "k", bytes(1, 2, 3), dec)).toEqual(result(2));
    expect(d.decode("s", "k2", bytes(1, 2, 3), dec)).toEqual(result(3));
    expect(d.decode("s", "k", bytes(1, 2, 4), dec)).toEqual(result(4));
    expect(d.decode("s", "k", bytes(1, 2), dec)).toEqual(result(5));
    expect(calls).toBe(5);
    expect(d.hits).toBe(1);
  });

  it("keeps its own copy of the bytes (the client may reuse its buffer), and only the last few messages", () => {
    const d = new SharedDecodes();
    let calls = 0;
    const dec = () => result(++calls);
    const buf = new Uint8Array([9, 9, 9]);
    d.decode("s", "k", buf, dec);
    buf[0] = 7; // the buffer reused for another message
    expect(d.decode("s", "k", buf, dec)).toEqual(result(2));
    expect(d.decode("s", "k", new Uint8Array([9, 9, 9]), dec)).toEqual(result(1));
    for (let i = 0; i < 8; i++) d.decode("s", "k", new Uint8Array([i]), dec);
    expect(d.decode("s", "k", new Uint8Array([9, 9, 9]), dec)).toEqual(result(11));
  });
});
