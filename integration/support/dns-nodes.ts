// Three (or n) `dcnet node` processes on the host, each on its own server of a routed NATS cluster,
// with DNS on its own loopback port (metrics off: the defaults would collide between processes on
// one host), an admin client, and the wait until every node sees every other one alive — the set-up
// the cluster DNS tests share.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsCluster, type NatsClusterHandle } from "../harness/nats-local.js";
import { freePort } from "./ports.js";
import { spawnDcnet, isReady, type DcnetProcess } from "./dcnet-process.js";
import { connectAdmin, within, type TestAdmin } from "./admin.js";

export interface DnsNodes<Id extends string> {
  readonly nats: NatsClusterHandle;
  readonly admin: TestAdmin;
  readonly procs: ReadonlyMap<Id, DcnetProcess>;
  readonly dnsPort: ReadonlyMap<Id, number>;
  /** A temp dir for the test's own files, removed by stop(). */
  readonly dir: string;
  /** Stops every process and server and removes the temp dir; safe after a failed start. */
  stop(): Promise<void>;
}

/** `nodeYaml`, when given, is every node's config file (e.g. shorter gossip timings); `env` is added to every node's environment. */
export async function startDnsNodes<Id extends string>(ids: readonly Id[], opts: { readonly nodeYaml?: string; readonly env?: NodeJS.ProcessEnv } = {}): Promise<DnsNodes<Id>> {
  const dir = mkdtempSync(join(tmpdir(), "dcnet-dns-nodes-"));
  const procs = new Map<Id, DcnetProcess>();
  const dnsPort = new Map<Id, number>();
  let nats: NatsClusterHandle | undefined;
  let admin: TestAdmin | undefined;
  const stop = async (): Promise<void> => {
    await admin?.close();
    await Promise.all([...procs.values()].map((p) => p.stop()));
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const config = opts.nodeYaml === undefined ? [] : ["--config", join(dir, "node.yaml")];
    if (opts.nodeYaml !== undefined) writeFileSync(join(dir, "node.yaml"), opts.nodeYaml);
    nats = await startNatsCluster(ids.length, { jetstream: false });
    for (const [i, id] of ids.entries()) {
      const port = await freePort();
      dnsPort.set(id, port);
      procs.set(id, spawnDcnet(["node", ...config, "--nats", nats.urls[i] as string, "--id", id, "--dns-listen", `127.0.0.1:${port}`, "--metrics-listen", ""], opts.env));
    }
    await Promise.all([...procs.values()].map((p) => p.waitForLine(isReady, 30_000)));
    const t = await connectAdmin(nats.urls, 5000);
    admin = t;
    await within(15_000, async () => {
      for (const n of ids) {
        const m = await t.admin.request(n, "members", {});
        if (m.members.filter((x) => x.state === "alive").length !== ids.length) throw new Error(`${n}: ${JSON.stringify(m.members)}`);
      }
    }, 200);
    return { nats, admin: t, procs, dnsPort, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
