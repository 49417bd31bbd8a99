import { describe, it, expect } from "@jest/globals";
import { z } from "zod";
import { cliParse, defineOp } from "./op.js";
import { OK_REPLY } from "./protocol.js";

describe("defineOp", () => {
  const echo = defineOp({
    name: "echo",
    role: "viewer",
    request: z.strictObject({ text: z.string() }),
    reply: z.strictObject({ node: z.string(), text: z.string() }),
    handle: ({ text }, ctx) => ({ node: ctx.config.id, text }),
    human: (r) => `${r.node}: ${r.text}`,
    summary: (r) => r.text,
  });

  it("derives the envelope kinds from the name, unless the reply kind is shared", () => {
    expect([echo.request.kind, echo.reply.kind]).toEqual(["admin.echo", "admin.echo.reply"]);
    const confirm = defineOp({ name: "confirm", role: "operator", request: z.strictObject({}), ...OK_REPLY, handle: (_q, ctx) => ({ node: ctx.config.id, message: "done" }) });
    expect(confirm.reply.kind).toBe("admin.ok");
    expect(confirm.human({ node: "n1", message: "done" }, 0)).toBe("n1: done");
    expect(confirm.summary({ node: "n1", message: "done" })).toBe("done");
  });

  it("keeps the role it declares", () => {
    expect(echo.role).toBe("viewer");
  });

  it("an op without a command is reachable by programs only", () => {
    expect(echo.cli).toEqual([]);
    expect(Object.isFrozen(echo)).toBe(true);
  });

  it("the request schema is the one the border validates with", () => {
    expect(echo.request.schema.safeParse({ text: "hi" }).success).toBe(true);
    expect(echo.request.schema.safeParse({ text: 1 }).success).toBe(false);
    expect(echo.request.schema.safeParse({ text: "hi", extra: true }).success).toBe(false);
  });
});

describe("cliParse", () => {
  it("returns the parsed value, or throws a usage error naming what and the problems", () => {
    expect(cliParse(z.enum(["a", "b"]), "a", "letter")).toBe("a");
    expect(() => cliParse(z.enum(["a", "b"]), "c", "letter")).toThrow(/^letter: /);
    expect(() => cliParse(z.strictObject({ id: z.string() }), { id: 1 }, "task")).toThrow(/^task: id: /);
  });
});
