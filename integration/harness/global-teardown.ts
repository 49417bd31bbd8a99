// jest globalTeardown of the integration project: stops the private dockerd only if globalSetup
// started it (an engine handed in through DCNET_DOCKER_HOST belongs to whoever started it).
import { stopEngine } from "./docker-engine.js";

export default async function globalTeardown(): Promise<void> {
  const engine = globalThis.__dcnetEngine;
  if (!engine?.owned) return;
  const t0 = Date.now();
  await stopEngine(engine);
  globalThis.__dcnetEngine = undefined;
  console.error(`[harness] private dockerd stopped and cleaned up (${Date.now() - t0} ms)`);
}
