// The private engine's one entry point for shells and for jest's hooks:
//   node --import tsx integration/harness/engine-cli.ts start [--owner PID]   → prints DOCKER_HOST on stdout
//   node --import tsx integration/harness/engine-cli.ts stop [DOCKER_HOST]
// `start` reuses DCNET_DOCKER_HOST when set. The owner is the process the engine serves (default:
// our parent); if it dies without `stop`, the next `start` reclaims and cleans the engine.
// jest loads globalSetup as CommonJS without its module mapper, so the hooks can't import the
// harness' ESM sources; they run this script instead, and the engine logic lives only here.
import { socketPathOf } from "./docker-api.js";
import { engineDirOf, ensureEngine, stopEngine } from "./docker-engine.js";
import { ensureHostfsImage } from "./hostfs-image.js";
import { ENGINE_ENV } from "./paths.js";

async function start(args: string[]): Promise<void> {
  const at = args.indexOf("--owner");
  const ownerPid = at >= 0 ? Number(args[at + 1]) : process.ppid;
  if (!Number.isInteger(ownerPid) || ownerPid <= 1) throw new Error(`bad --owner ${args[at + 1]}`);
  const t0 = Date.now();
  const engine = await ensureEngine({ ownerPid });
  try {
    await ensureHostfsImage(engine.socketPath);
  } catch (e) {
    if (engine.owned) await stopEngine(engine);
    throw e;
  }
  console.error(`[engine] ${engine.owned ? "started" : "reused"} ${engine.dockerHost}, image ready, in ${Date.now() - t0} ms`);
  process.stdout.write(`${engine.dockerHost}\n`);
}

async function stop(args: string[]): Promise<void> {
  const dockerHost = args[0] ?? process.env[ENGINE_ENV];
  if (!dockerHost) throw new Error(`stop needs the engine's DOCKER_HOST (argument or ${ENGINE_ENV})`);
  const t0 = Date.now();
  await stopEngine({ dir: engineDirOf(dockerHost), dockerHost, socketPath: socketPathOf(dockerHost), owned: true });
  console.error(`[engine] stopped ${dockerHost} and cleaned up in ${Date.now() - t0} ms`);
}

const [cmd, ...rest] = process.argv.slice(2);
const run = cmd === "start" ? start : cmd === "stop" ? stop : undefined;
if (!run) {
  console.error("usage: engine-cli.ts start [--owner PID] | stop [DOCKER_HOST]");
  process.exit(2);
}
run(rest).catch((e: unknown) => {
  console.error(`[engine] ${cmd} failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
