// jest globalSetup of the integration project: runs once, in jest's parent process, before any
// worker is forked. Workers inherit process.env from here (checked by harness.test.ts), so setting
// DOCKER_HOST is enough for testcontainers in every test file.
import { ensureEngine, exportEngineEnv, stopEngine, type Engine } from "./docker-engine.js";
import { ensureHostfsImage } from "./hostfs-image.js";

declare global {
  // Read back by global-teardown.ts; jest shares globalThis between the two hooks.
  var __dcnetEngine: Engine | undefined;
}

export default async function globalSetup(): Promise<void> {
  const t0 = Date.now();
  const engine = await ensureEngine();
  globalThis.__dcnetEngine = engine;
  try {
    exportEngineEnv(engine);
    await ensureHostfsImage(engine.socketPath);
  } catch (e) {
    if (engine.owned) await stopEngine(engine);
    throw e;
  }
  const how = engine.owned ? "started" : "reused";
  console.error(`[harness] private dockerd ${how} at ${engine.dockerHost} (${Date.now() - t0} ms)`);
}
