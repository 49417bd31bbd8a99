// A user-defined bridge network with its own /24 out of the engine's pool (10.214.0.0/16).
// A fixed subnet is what lets nodes have fixed IPs and reconnect with the same IP.
import { randomBytes } from "node:crypto";
import { getContainerRuntimeClient } from "testcontainers";
import { ENGINE_POOL, TEST_LABEL } from "./paths.js";
import { runFile } from "./shell.js";

export interface TestNetwork {
  name: string;
  /** e.g. 10.214.37.0/24; the bridge (host side) is .1. */
  subnet: string;
  /** Address `host` (1–254) of the subnet. */
  ip(host: number): string;
  remove(): Promise<void>;
}

const POOL_PREFIX = ENGINE_POOL.split(".").slice(0, 2).join("."); // "10.214"

export async function createTestNetwork(namePrefix = "dcnet-it"): Promise<TestNetwork> {
  const client = await getContainerRuntimeClient();
  const name = `${namePrefix}-${randomBytes(3).toString("hex")}`;
  const used = await usedThirdOctets();
  // Random start: parallel test files each pick a different /24 without coordinating.
  const start = 16 + Math.floor(Math.random() * 224);
  for (let k = 0; k < 224; k++) {
    const third = 16 + ((start - 16 + k) % 224);
    if (used.has(third)) continue;
    const subnet = `${POOL_PREFIX}.${third}.0/24`;
    try {
      const net = await client.network.create({
        Name: name,
        Driver: "bridge",
        CheckDuplicate: true,
        Labels: { [TEST_LABEL]: "true" },
        IPAM: { Config: [{ Subnet: subnet, Gateway: `${POOL_PREFIX}.${third}.1` }] },
      });
      return {
        name,
        subnet,
        ip: (host) => `${POOL_PREFIX}.${third}.${host}`,
        remove: async () => {
          await net.remove().catch((e: unknown) => {
            if (!(typeof e === "object" && e !== null && "statusCode" in e && e.statusCode === 404)) throw e;
          });
        },
      };
    } catch (e) {
      // Another run took it between our look and our create: try the next one.
      if (!/overlap/i.test(String(e))) throw e;
    }
  }
  throw new Error(`no free /24 left in ${ENGINE_POOL}`);
}

async function usedThirdOctets(): Promise<Set<number>> {
  const client = await getContainerRuntimeClient();
  const used = new Set<number>();
  const nets = await client.container.dockerode.listNetworks();
  const subnets = nets.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? ""));
  // Host routes too: a network of another engine (or anything else) in the same range.
  const routes = (await runFile("ip", ["-4", "route", "show"])).stdout.split("\n").map((l) => l.split(" ")[0] ?? "");
  for (const s of [...subnets, ...routes]) {
    const m = new RegExp(`^${POOL_PREFIX.replace(".", "\\.")}\\.(\\d+)\\.`).exec(s);
    if (m?.[1]) used.add(Number(m[1]));
  }
  return used;
}
