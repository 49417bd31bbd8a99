import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer, type Server } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { masterCommand, parseShowProc, parseStat, runtimeCommands, RuntimeError } from "./runtime.js";

// A stand-in for HAProxy's stats socket in interactive mode: every answer is followed by "\n> ".
function fakeSocket(path: string, answer: (cmd: string) => string | undefined): Promise<Server> {
  const server = createServer((sock) => {
    let buf = "";
    sock.on("data", (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const cmd = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (cmd === "quit") return void sock.end();
        const a = answer(cmd);
        if (a === undefined) return; // never answers: the client's deadline
        sock.write(cmd === "prompt" ? "\n> " : `${a}\n> `);
      }
    });
  });
  return new Promise((r) => server.listen(path, () => r(server)));
}

describe("the Runtime API client", () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-rt-"));
  const path = join(dir, "admin.sock");
  let server: Server;
  const seen: string[] = [];
  beforeAll(async () => {
    server = await fakeSocket(path, (cmd) => {
      seen.push(cmd);
      if (cmd === "hang") return undefined;
      if (cmd.startsWith("set server b/s9")) return "No such server.\n";
      if (cmd.includes("addr")) return "IP changed from '127.0.0.1' to '10.0.0.1', port changed from '1' to '80' by 'stats socket command'\n";
      if (cmd === "show stat") return "# pxname,svname,scur,stot,status,hrsp_2xx\nf,FRONTEND,3,10,OPEN,9\nb,s1,1,5,UP,4\n";
      return "";
    });
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends a batch over one connection and cuts each answer at its prompt", async () => {
    const out = await runtimeCommands(path, ["set server b/s1 addr 10.0.0.1 port 80", "set server b/s1 state ready", "show stat"]);
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^IP changed/);
    expect(out[1]).toBe("");
    expect(parseStat(out[2] ?? "")).toEqual([
      { proxy: "f", server: "FRONTEND", status: "OPEN", scur: 3, stot: 10, bin: 0, bout: 0, ereq: 0, econ: 0, eresp: 0, hrsp: { "1xx": 0, "2xx": 9, "3xx": 0, "4xx": 0, "5xx": 0 } },
      { proxy: "b", server: "s1", status: "UP", scur: 1, stot: 5, bin: 0, bout: 0, ereq: 0, econ: 0, eresp: 0, hrsp: { "1xx": 0, "2xx": 4, "3xx": 0, "4xx": 0, "5xx": 0 } },
    ]);
  });

  it("rejects with the command and HAProxy's words when an answer is an error", async () => {
    await expect(runtimeCommands(path, ["set server b/s1 state ready", "set server b/s9 state ready"])).rejects.toThrow("set server b/s9 state ready: No such server.");
  });

  it("refuses a command that would smuggle a second one", async () => {
    await expect(runtimeCommands(path, ["set server b/s1 state ready; shutdown sessions"])).rejects.toBeInstanceOf(RuntimeError);
  });

  it("gives up after its deadline", async () => {
    await expect(runtimeCommands(path, ["hang"], 200)).rejects.toThrow(/no answer within 200 ms/);
  });

  it("fails clearly when nothing listens", async () => {
    await expect(masterCommand(join(dir, "none.sock"), "show proc", 500)).rejects.toThrow(/none\.sock: connect ENOENT/);
  });
});

describe("show proc (HAProxy 2.6.12)", () => {
  it("reads the master's reload counter, workers and old workers", () => {
    const text =
      "#<PID>          <type>          <reloads>       <uptime>        <version>      \n" +
      "7612            master          2 [failed: 1]   0d00h10m14s     2.6.12-1+deb12u3\n" +
      "# workers\n1115            worker          0               0d00h00m01s     2.6.12-1+deb12u3\n" +
      "# old workers\n7615            worker          1               0d00h10m13s     2.6.12-1+deb12u3\n" +
      "# programs\n\n";
    expect(parseShowProc(text)).toEqual({ masterPid: 7612, reloads: 2, failedReloads: 1, workers: [1115], oldWorkers: [7615] });
    expect(parseShowProc("Unknown command.\n")).toBeUndefined();
  });
});
