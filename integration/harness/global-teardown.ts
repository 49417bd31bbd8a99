// jest globalTeardown of the integration project: stops the private dockerd only if globalSetup
// started it; an engine handed in through DCNET_DOCKER_HOST belongs to whoever started it.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

export default async function globalTeardown(): Promise<void> {
  const engine = globalThis.__dcnetEngine;
  if (!engine?.owned) return;
  globalThis.__dcnetEngine = undefined;
  const cli = join(engine.rootDir, "integration/harness/engine-cli.ts");
  execFileSync(process.execPath, ["--import", "tsx", cli, "stop", engine.dockerHost], {
    cwd: engine.rootDir,
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 120_000,
  });
}
