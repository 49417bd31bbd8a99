import { describe, it, expect } from "@jest/globals";
import { Writable } from "node:stream";
import { createLogHub } from "./logger.js";

function sink(): { lines: Array<Record<string, unknown>>; stream: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

describe("logger - hub", () => {
  it("writes JSON with node bindings and the subsystem, and a level change reaches existing children", () => {
    const { lines, stream } = sink();
    const hub = createLogHub({ level: "info", bindings: { node: "n1", cluster: "c" }, destination: stream });
    const admin = hub.child("admin");
    admin.debug("hidden");
    admin.info({ op: "ping" }, "served");
    hub.setLevel("debug");
    admin.debug("now visible");
    expect(lines.map((l) => l.msg)).toEqual(["served", "now visible"]);
    expect(lines[0]).toMatchObject({ level: "info", node: "n1", cluster: "c", sub: "admin", op: "ping" });
    expect(hub.level()).toBe("debug");
  });
});
