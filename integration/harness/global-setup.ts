// jest globalSetup of the integration project: runs once, in jest's parent process, before any
// worker is forked; workers inherit process.env from here (harness.test.ts checks it), so setting
// DOCKER_HOST is enough for testcontainers in every test file.
// jest loads this file as CommonJS and without moduleNameMapper, so it can't import the harness'
// ESM modules: the engine is started by engine-cli.ts in a child process instead.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

interface ProjectConfig {
  rootDir: string;
}

declare global {
  // Read back by global-teardown.ts: jest shares globalThis between its two hooks.
  var __dcnetEngine: { dockerHost: string; owned: boolean; rootDir: string } | undefined;
}

function engineCli(rootDir: string, args: string[]): string {
  const cli = join(rootDir, "integration/harness/engine-cli.ts");
  return execFileSync(process.execPath, ["--import", "tsx", cli, ...args], {
    cwd: rootDir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 120_000,
  });
}

export default async function globalSetup(_global: unknown, project: ProjectConfig): Promise<void> {
  // The tests spawn bin/dcnet.js, which runs the compiled build: (re)build dist/ if a source is newer.
  execFileSync(process.execPath, [join(project.rootDir, "scripts/ensure-build.mjs")], { cwd: project.rootDir, stdio: ["ignore", "inherit", "inherit"], timeout: 120_000 });
  const owned = !process.env.DCNET_DOCKER_HOST;
  const dockerHost = engineCli(project.rootDir, ["start", "--owner", String(process.pid)]).trim().split("\n").pop() ?? "";
  if (!dockerHost.startsWith("unix://")) throw new Error(`engine-cli start printed no DOCKER_HOST: ${dockerHost}`);
  globalThis.__dcnetEngine = { dockerHost, owned, rootDir: project.rootDir };
  process.env.DOCKER_HOST = dockerHost;
  process.env.DCNET_DOCKER_HOST = dockerHost;
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true"; // Ryuk would need a registry pull
}
