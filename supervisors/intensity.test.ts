import { describe, expect, it } from "@jest/globals";
import { recordRestart } from "./intensity.js";

const limit = { intensity: 3, periodMs: 5000 };

function replay(times: number[], l = limit): boolean[] {
  let history: readonly number[] = [];
  return times.map((t) => {
    const v = recordRestart(history, t, l);
    history = v.history;
    return v.exceeded;
  });
}

describe("intensity - restart window", () => {
  it("allows `intensity` restarts inside the period and refuses the next one", () => {
    expect(replay([0, 100, 200, 300])).toEqual([false, false, false, true]);
  });

  it("forgets restarts older than the period", () => {
    expect(replay([0, 100, 200, 5000, 5100])).toEqual([false, false, false, false, false]);
    expect(recordRestart([0, 100, 200], 5150, limit).history).toEqual([200, 5150]);
  });

  it("a restart exactly `periodMs` old is out of the window", () => {
    expect(recordRestart([0, 1, 2], 5000, limit)).toEqual({ history: [1, 2, 5000], exceeded: false });
  });

  it("intensity 0 gives up on the first crash", () => {
    expect(replay([0], { intensity: 0, periodMs: 1000 })).toEqual([true]);
  });

  it("does not mutate the history it is given", () => {
    const history = [1, 2];
    recordRestart(history, 3, limit);
    expect(history).toEqual([1, 2]);
  });
});
