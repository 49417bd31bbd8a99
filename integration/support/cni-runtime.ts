// A CNI runtime as SPEC.md §3 describes one (what libcni does for podman, containerd, CRI-O), for
// tests and benchmarks: it runs a network config list's plugins by name from CNI_PATH inside the
// "host" network namespace (the runtime's networking domain), with the CNI_* environment, the request
// config derived per plugin (cniVersion and name inserted, `capabilities` removed, `runtimeConfig`
// built from the capabilities the plugin declares and the runtime was given, `prevResult` injected),
// ADD in order with each plugin's result the next one's prevResult, the final result cached per
// (container, ifname) and handed as prevResult to CHECK (in order) and DEL (in reverse order).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface CniNetworkList {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: ReadonlyArray<Record<string, unknown>>;
}

export interface CniAttachment {
  readonly containerId: string;
  readonly ifname: string;
  readonly netns: string;
}

export interface PluginRun {
  /** The plugin's exit code. */
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** One operation on the whole list: ok with the final result (ADD), or the first plugin's error. */
export type CniOutcome =
  | { readonly ok: true; readonly result?: Record<string, unknown>; readonly ms: number }
  | { readonly ok: false; readonly plugin: string; readonly code: number | undefined; readonly msg: string; readonly ms: number; readonly run: PluginRun };

export class CniRuntime {
  readonly #cache = new Map<string, Record<string, unknown>>();

  constructor(
    readonly opts: {
      /** Named network namespace the plugins run in (`ip netns exec`). */
      readonly hostNetns: string;
      readonly cniPath: readonly string[];
      readonly network: CniNetworkList;
      /** More environment for the plugin process (e.g. dcnet-cni's DCNET_CNI_SOCKET), over the runtime's own. */
      readonly env?: Readonly<Record<string, string>>;
    },
  ) {}

  add(att: CniAttachment, capabilityArgs: Record<string, unknown> = {}): Promise<CniOutcome> {
    return this.#chain("ADD", att, capabilityArgs, this.opts.network.plugins, undefined);
  }

  /** `only`: check just these plugin types (e.g. to leave out one with a known-broken CHECK). */
  check(att: CniAttachment, capabilityArgs: Record<string, unknown> = {}, only?: readonly string[]): Promise<CniOutcome> {
    const plugins = this.opts.network.plugins.filter((p) => !only || only.includes(String(p.type)));
    return this.#chain("CHECK", att, capabilityArgs, plugins, this.#cache.get(key(att)));
  }

  del(att: CniAttachment, capabilityArgs: Record<string, unknown> = {}): Promise<CniOutcome> {
    return this.#chain("DEL", att, capabilityArgs, [...this.opts.network.plugins].reverse(), this.#cache.get(key(att)));
  }

  cached(att: CniAttachment): Record<string, unknown> | undefined {
    return this.#cache.get(key(att));
  }

  /** The request config one plugin gets (SPEC.md §3 "Deriving request configuration"). */
  requestConfig(plugin: Record<string, unknown>, capabilityArgs: Record<string, unknown>, prevResult: Record<string, unknown> | undefined): Record<string, unknown> {
    const { capabilities, ...rest } = plugin as { capabilities?: Record<string, boolean> };
    const runtimeConfig = Object.fromEntries(Object.entries(capabilityArgs).filter(([cap]) => capabilities?.[cap] === true));
    return {
      ...rest,
      cniVersion: this.opts.network.cniVersion,
      name: this.opts.network.name,
      ...(Object.keys(runtimeConfig).length > 0 ? { runtimeConfig } : {}),
      ...(prevResult ? { prevResult } : {}),
    };
  }

  /** Runs one plugin binary as the runtime would: env, stdin, in the host namespace. */
  exec(type: string, env: Record<string, string>, stdin: string): Promise<PluginRun> {
    const file = this.opts.cniPath.map((d) => join(d, type)).find((f) => existsSync(f));
    if (!file) throw new Error(`plugin ${type} not found in CNI_PATH ${this.opts.cniPath.join(":")}`);
    const started = process.hrtime.bigint();
    return new Promise((resolve) => {
      const child = execFile(
        // By its path: the plugin's PATH (opts.env may change it) is not the runner's.
        "/usr/bin/ip",
        ["netns", "exec", this.opts.hostNetns, file],
        { env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", CNI_PATH: this.opts.cniPath.join(":"), ...this.opts.env, ...env }, timeout: 30_000 },
        (err, stdout, stderr) => {
          const exit = err ? (typeof err.code === "number" ? err.code : -1) : 0;
          resolve({ exit, stdout: String(stdout), stderr: String(stderr), ms: Number(process.hrtime.bigint() - started) / 1e6 });
        },
      );
      // A plugin may exit without reading stdin (an early error): that is its answer, not a crash here.
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(stdin);
    });
  }

  async #chain(command: "ADD" | "CHECK" | "DEL", att: CniAttachment, caps: Record<string, unknown>, plugins: ReadonlyArray<Record<string, unknown>>, cached: Record<string, unknown> | undefined): Promise<CniOutcome> {
    const env = { CNI_COMMAND: command, CNI_CONTAINERID: att.containerId, CNI_NETNS: att.netns, CNI_IFNAME: att.ifname, CNI_ARGS: "" };
    let prev = cached;
    let ms = 0;
    for (const plugin of plugins) {
      const type = String(plugin.type);
      const run = await this.exec(type, env, JSON.stringify(this.requestConfig(plugin, caps, prev)));
      ms += run.ms;
      if (run.exit !== 0) {
        const err = parseJson(run.stdout);
        return { ok: false, plugin: type, code: typeof err?.code === "number" ? err.code : undefined, msg: typeof err?.msg === "string" ? err.msg : run.stderr.trim(), ms, run };
      }
      // ADD: each result is the next plugin's prevResult; CHECK and DEL always get the cached ADD result.
      if (command === "ADD") prev = parseJson(run.stdout) ?? prev;
    }
    if (command === "ADD" && prev) this.#cache.set(key(att), prev);
    if (command === "DEL") this.#cache.delete(key(att));
    return { ok: true, ...(command === "ADD" && prev ? { result: prev } : {}), ms };
  }
}

function key(att: CniAttachment): string {
  return `${att.containerId}\0${att.ifname}`;
}

function parseJson(s: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** p-th percentile (0–100) of a list of numbers, nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
