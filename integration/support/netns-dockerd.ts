// A private dockerd inside a lab host's network namespace (the harness's own dockerd lives in the
// root namespace and must not carry the overlay), as integration/overlay-cnm.test.ts runs one: it
// enters only the host's network namespace (`nsenter --net`: `ip netns exec` would remount /sys
// without the cgroup hierarchies dockerd needs), so its mounts are in the root mount namespace under
// its folder; stop() removes its containers, stops it, kills what it left running from its folder,
// unmounts and deletes the folder. (Same class as overlay-cnm.test.ts's, exported for reuse.)
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dockerApi, dockerJson, pingEngine } from "../harness/docker-api.js";
import { runFile, sleep } from "../harness/shell.js";

/** A dockerd of our own inside a host's namespace: no iptables, no default bridge, everything under `dir`. */
export class NetnsDockerd {
  readonly socketPath: string;
  private child: ChildProcess | undefined;
  private exited = false;

  constructor(
    readonly ns: string,
    readonly dir: string,
    /**
     * A file dockerd sees as /etc/resolv.conf (the host's resolver for Docker: its embedded DNS
     * forwards to the nameservers listed there). It then runs in a mount namespace of its own, where
     * that file is bound over /etc/resolv.conf; its mounts go with that namespace when it ends.
     * The file is bound as it is at start: one replaced later (renamed over) is not seen.
     */
    readonly resolvConf?: string,
  ) {
    this.socketPath = join(dir, "docker.sock");
  }

  async start(): Promise<void> {
    for (const d of ["data", "exec"]) mkdirSync(join(this.dir, d), { recursive: true });
    writeFileSync(join(this.dir, "daemon.json"), "{}\n");
    const log = openSync(join(this.dir, "dockerd.log"), "a");
    const args = [
      `--config-file=${join(this.dir, "daemon.json")}`,
      `--data-root=${join(this.dir, "data")}`,
      `--exec-root=${join(this.dir, "exec")}`,
      `--host=unix://${this.socketPath}`,
      `--pidfile=${join(this.dir, "dockerd.pid")}`,
      ...["--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--userland-proxy=false", "--bridge=none"],
    ];
    const env = { ...process.env, PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ""}` };
    // nsenter execs dockerd: the child's pid is dockerd's.
    const enter = ["nsenter", `--net=/run/netns/${this.ns}`, "--", "dockerd", ...args];
    // unshare, sh and nsenter exec in turn: the child's pid is dockerd's either way.
    const argv = this.resolvConf ? ["unshare", "-m", "--propagation", "private", "--", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', this.resolvConf, ...enter] : enter;
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ["ignore", log, log], env });
    closeSync(log);
    this.child = child;
    child.on("exit", () => (this.exited = true));
    const deadline = Date.now() + 30_000;
    while (!(await pingEngine(this.socketPath))) {
      if (this.exited || Date.now() > deadline) throw new Error(`the netns dockerd did not come up; log tail:\n${this.logTail()}`);
      await sleep(100);
    }
  }

  logTail(): string {
    try {
      return readFileSync(join(this.dir, "dockerd.log"), "utf8").split("\n").slice(-20).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Containers removed, dockerd stopped by its pid, what it left running from our folder killed, the folder deleted. */
  async stop(): Promise<void> {
    if (await pingEngine(this.socketPath)) {
      const all = await dockerJson<Array<{ Id: string }>>(this.socketPath, "GET", "/containers/json?all=1").catch(() => []);
      await Promise.all(all.map((c) => dockerApi(this.socketPath, "DELETE", `/containers/${c.Id}?force=1&v=1`).catch(() => undefined)));
    }
    const child = this.child;
    if (child?.pid !== undefined && !this.exited) {
      child.kill("SIGTERM");
      const deadline = Date.now() + 20_000;
      while (!this.exited && Date.now() < deadline) await sleep(100);
      if (!this.exited) child.kill("SIGKILL");
      while (!this.exited && Date.now() < deadline + 5_000) await sleep(50);
    }
    // containerd and shims started from our exec-root, should any outlive dockerd.
    for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      let cmd: string;
      try {
        cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
      } catch {
        continue;
      }
      if (cmd.includes(`${this.dir}/`) && Number(p) !== process.pid) {
        try {
          process.kill(Number(p), "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    // Deepest first, so nested mounts come off before their parents.
    const points = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[4] ?? "")
      .filter((m) => m.startsWith(`${this.dir}/`));
    for (const m of [...new Set(points)].sort((a, b) => b.length - a.length)) {
      if ((await runFile("umount", [m])).code !== 0) await runFile("umount", ["-l", m]);
    }
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}
