import { describe, expect, it } from "@jest/globals";
import { restartGroup, shouldRestart } from "./strategy.js";

describe("strategy - restart group", () => {
  it("one_for_one restarts only the failed child", () => {
    expect(restartGroup("one_for_one", 2, 5)).toEqual([2]);
  });
  it("one_for_all restarts every child in start order", () => {
    expect(restartGroup("one_for_all", 2, 4)).toEqual([0, 1, 2, 3]);
  });
  it("rest_for_one restarts the failed child and the ones started after it", () => {
    expect(restartGroup("rest_for_one", 1, 4)).toEqual([1, 2, 3]);
    expect(restartGroup("rest_for_one", 3, 4)).toEqual([3]);
  });
});

describe("strategy - restart types", () => {
  it.each([
    ["permanent", "crash", true],
    ["permanent", "normal", true],
    ["transient", "crash", true],
    ["transient", "normal", false],
    ["temporary", "crash", false],
    ["temporary", "normal", false],
  ] as const)("%s after %s exit restarts: %s", (type, reason, expected) => {
    expect(shouldRestart(type, reason)).toBe(expected);
  });
});
