import { describe, it, expect } from "@jest/globals";
import { duration, table } from "./text.js";

describe("admin text layout", () => {
  it("aligns table columns to the widest cell and trims trailing space", () => {
    expect(table(["A", "LONGER"], [["xx", "1"], ["y", ""]])).toBe("A   LONGER\nxx  1\ny");
  });

  it.each([
    [250, "250ms"],
    [59_000, "59s"],
    [61_000, "1m1s"],
    [3 * 3600_000 + 120_000, "3h2m"],
    [50 * 3600_000, "2d2h"],
  ])("duration(%d) = %s", (ms, text) => expect(duration(ms)).toBe(text));
});
