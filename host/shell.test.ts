import { afterEach, describe, expect, it } from "@jest/globals";
import { PersistentShell, shellQuote } from "./shell.js";

let shell: PersistentShell | undefined;
afterEach(() => shell?.close());

describe("persistent shell", () => {
  it("runs command lines one after another in one shell, with each one's output and status", async () => {
    shell = new PersistentShell();
    shell.start();
    const [a, b, c] = await Promise.all([shell.run(["sh", "-c", "echo one; echo two >&2"], 5000), shell.run(["sh", "-c", "exit 3"], 5000), shell.run(["echo", "it's $HOME"], 5000)]);
    expect(a).toEqual({ code: 0, output: "one\ntwo\n", timedOut: false });
    expect(b).toEqual({ code: 3, output: "", timedOut: false });
    // Quoted: no expansion, the quote kept.
    expect(c?.output).toBe("it's $HOME\n");
    // The same shell answered all three: $$ is the shell's pid.
    const p1 = await shell.run(["sh", "-c", "echo $PPID"], 5000);
    const p2 = await shell.run(["sh", "-c", "echo $PPID"], 5000);
    expect(p1.output).toBe(p2.output);
  });

  it("a missing command is status 127; a hung one times out and the next command gets a fresh shell", async () => {
    shell = new PersistentShell();
    expect((await shell.run(["/nonexistent/conntrack", "-D"], 5000)).code).toBe(127);
    const hung = await shell.run(["sleep", "30"], 200);
    expect(hung).toMatchObject({ code: null, timedOut: true });
    expect(await shell.run(["echo", "alive"], 5000)).toEqual({ code: 0, output: "alive\n", timedOut: false });
  });

  it("quotes words for sh", () => {
    expect(shellQuote("--orig-dst")).toBe("--orig-dst");
    expect(shellQuote("fd01:c::1")).toBe("fd01:c::1");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it("after close every command answers at once without running", async () => {
    shell = new PersistentShell();
    shell.close();
    expect(await shell.run(["echo", "x"], 5000)).toEqual({ code: null, output: "shell closed", timedOut: false });
  });
});
