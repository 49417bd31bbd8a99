// A few Docker Engine API calls over the unix socket, with node:http only. The engine and image
// steps run in jest's parent process (globalSetup) and in engine-cli.ts, where pulling in
// testcontainers would cache a runtime client before DOCKER_HOST is even set.
import { request } from "node:http";
import type { Readable } from "node:stream";

export interface ApiResponse {
  status: number;
  body: string;
}

export function socketPathOf(dockerHost: string): string {
  if (!dockerHost.startsWith("unix://")) throw new Error(`only unix:// docker hosts are supported, got ${dockerHost}`);
  return dockerHost.slice("unix://".length);
}

export function dockerApi(
  socketPath: string,
  method: string,
  path: string,
  opts: { body?: Readable | string; contentType?: string; timeoutMs?: number } = {},
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.contentType) headers["Content-Type"] = opts.contentType;
    if (typeof opts.body === "string") headers["Content-Length"] = String(Buffer.byteLength(opts.body));
    const req = request({ socketPath, method, path, headers, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`docker API ${method} ${path}: timeout`)));
    req.on("error", reject);
    if (opts.body === undefined) req.end();
    else if (typeof opts.body === "string") req.end(opts.body);
    else opts.body.on("error", (e) => req.destroy(e)).pipe(req);
  });
}

/** Calls the API and parses JSON, throwing on any non-2xx status with the engine's message. */
export async function dockerJson<T>(socketPath: string, method: string, path: string): Promise<T> {
  const r = await dockerApi(socketPath, method, path);
  if (r.status < 200 || r.status >= 300) throw new Error(`docker API ${method} ${path}: ${r.status} ${r.body.trim()}`);
  return (r.body ? JSON.parse(r.body) : undefined) as T;
}

export async function pingEngine(socketPath: string): Promise<boolean> {
  try {
    const r = await dockerApi(socketPath, "GET", "/_ping", { timeoutMs: 2_000 });
    return r.status === 200 && r.body === "OK";
  } catch {
    return false;
  }
}

/** Removes every container and network carrying `label=true`: the leftovers of failed or interrupted tests. */
export async function removeLabelled(socketPath: string, label: string): Promise<{ containers: number; networks: number }> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${label}=true`] }));
  const containers = await dockerJson<{ Id: string }[]>(socketPath, "GET", `/containers/json?all=1&filters=${filters}`);
  await Promise.all(containers.map((c) => dockerApi(socketPath, "DELETE", `/containers/${c.Id}?force=1&v=1`)));
  const networks = await dockerJson<{ Id: string }[]>(socketPath, "GET", `/networks?filters=${filters}`);
  await Promise.all(networks.map((n) => dockerApi(socketPath, "DELETE", `/networks/${n.Id}`)));
  return { containers: containers.length, networks: networks.length };
}
