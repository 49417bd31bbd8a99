// Names and addresses the harness shares between modules. The address plan is documented in
// integration/README.md; keep the two in step.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file so a fresh clone in any folder works (CI clones elsewhere). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Skeleton image: symlinks and mount points only; /usr, /etc and the repo come from the host read-only. */
export const HOSTFS_IMAGE = "dcnet/hostfs:local";

/** testcontainers puts this label on its containers; the harness puts it on its networks too, so one filter finds all. */
export const TEST_LABEL = "org.testcontainers";

/** Private engine: the default bridge (docker0) and the pool user networks are carved from. */
export const ENGINE_BIP = "10.213.0.1/24";
export const ENGINE_POOL = "10.214.0.0/16";

/** Env var through which .ci/run (or a developer) hands an already-running private engine to jest. */
export const ENGINE_ENV = "DCNET_DOCKER_HOST";
