import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import * as api from "./index.js";
import { SUPERVISOR_ERROR_CODES, toError, type SupervisorError } from "./errors.js";

const samples: SupervisorError[] = [
  new api.HandlerDeadlineError("/a", "handler", 1),
  new api.AskTimeoutError("/a", 1),
  new api.ActorStoppedError("/a"),
  new api.InjectedCrashError("/a", "x"),
  new api.RestartIntensityError("/a", "/a/b", 3, 5000),
  new api.ThrownValueError(42),
  new api.InvalidSpecError("/a", "x"),
];

describe("errors - catalogue", () => {
  it("every error class has its own name and a code from the catalogue, each code used once", () => {
    for (const e of samples) expect(e.name).toBe(e.constructor.name);
    expect(samples.map((e) => e.code).sort()).toEqual(Object.values(SUPERVISOR_ERROR_CODES).sort());
  });

  it("README.md lists exactly the codes in the catalogue", () => {
    const readme = readFileSync(new URL("./README.md", import.meta.url), "utf8");
    const documented = new Set(readme.match(/DCNET_E_[A-Z_]+/g));
    expect([...documented].sort()).toEqual(Object.values(SUPERVISOR_ERROR_CODES).sort());
  });

  it("toError keeps Errors and wraps anything else", () => {
    const e = new Error("x");
    expect(toError(e)).toBe(e);
    expect(toError("text")).toMatchObject({ code: "DCNET_E_THROWN_VALUE", value: "text", message: "non-Error value thrown: text" });
  });

  it("startTree rejects a malformed spec before starting anything", async () => {
    const w = api.worker("a", { init: () => 0, handle: (s: number) => s });
    await expect(api.startTree(api.supervisor("root", "one_for_one", [w, w]))).rejects.toMatchObject({ code: "DCNET_E_INVALID_SPEC" });
    await expect(api.startTree(api.supervisor("ro ot", "one_for_one", []))).rejects.toBeInstanceOf(api.InvalidSpecError);
    await expect(api.startTree(api.supervisor("root", "one_for_one", [], { intensity: -1 }))).rejects.toBeInstanceOf(api.InvalidSpecError);
  });
});
