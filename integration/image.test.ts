// The container image: the repository's Dockerfile built from a fresh clone in the harness's private
// dockerd (support/image.ts: no registry), then a 3-node cluster of it — three containers of the
// image with every capability dropped but NET_ADMIN and NET_BIND_SERVICE, on a routed 3-server NATS
// cluster of the harness — answering DNS on port 53 and `dcnet ctl --all status` run inside the image.
// Address plan: one free 10.214.X.0/24 (harness): nats-i .10+i, the image's nodes .120+i.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startCluster, type Cluster } from "./harness/cluster.js";
import { TEST_LABEL } from "./harness/paths.js";
import { dig } from "./support/dig.js";
import { within } from "./support/admin.js";
import { ensureImage, type BuiltImage } from "./support/image.js";

jest.setTimeout(900_000);
const run = promisify(execFile);
const docker = async (...args: string[]): Promise<string> => (await run("docker", args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
const IDS = ["img-0", "img-1", "img-2"] as const;

describe("container image: built from a fresh clone, a 3-node cluster of it", () => {
  let built: BuiltImage;
  let cluster: Cluster;
  const names: string[] = [];
  const ip = (i: number) => cluster.network.ip(120 + i);

  beforeAll(async () => {
    built = await ensureImage();
    console.log(`image ${built.image} of ${built.commit.slice(0, 8)}: ${Object.keys(built.timings).length ? Object.entries(built.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ") : "reused"}`);
    cluster = await startCluster({ nodes: 0, natsServers: 3 });
    const urls = cluster.natsUrls().join(",");
    for (const [i, id] of IDS.entries()) {
      const name = `${cluster.network.name}-${id}`;
      names.push(name);
      await docker(
        "run", "-d", "--name", name, "--hostname", id, "--label", `${TEST_LABEL}=true`,
        "--network", cluster.network.name, "--ip", ip(i),
        "--cap-drop", "ALL", "--cap-add", "NET_ADMIN", "--cap-add", "NET_BIND_SERVICE",
        built.image, "node", "--nats", urls, "--id", id, "--insecure", "--dns-listen", "0.0.0.0:53",
      );
    }
    await within(30_000, async () => {
      for (const name of names) if (!(await docker("logs", name)).includes("dcnet node ready")) throw new Error(`${name} not ready`);
    }, 250);
  }, 900_000);

  afterAll(async () => {
    if (names.length) await docker("rm", "-f", ...names).catch(() => "");
    await cluster?.stop();
  });

  test("the image holds the compiled build and production dependencies only, with the native UDP addon", async () => {
    const out = await docker("run", "--rm", "--entrypoint", "sh", built.image, "-c",
      "cd /opt/dcnet && ls -A; echo ---; ls node_modules node_modules/.bin 2>/dev/null | tr '\\n' ' '; echo; echo ---; find . -name '*.ts' ! -name '*.d.ts' -not -path './node_modules/*' | head -3; echo ---; ls native/udp-batch/build/Release/*.node; echo ---; for t in nft ip conntrack tini; do command -v $t; done");
    const [top, modules, sources, addon, tools] = out.split("---\n").map((s) => s.trim());
    expect((top ?? "").split("\n").sort()).toEqual(["bin", "dist", "native", "node_modules", "package.json"]);
    for (const dev of ["typescript", "jest", "eslint", "esbuild", "tsx", "testcontainers", "@swc", "fast-check"]) expect((modules ?? "").split(" ")).not.toContain(dev);
    for (const prod of ["fastify", "nact", "pino", "zod", "@nats-io"]) expect((modules ?? "").split(" ")).toContain(prod);
    expect(sources).toBe("");
    expect(addon).toMatch(/udp_batch\.node$/);
    expect((tools ?? "").split("\n").map((p) => p.split("/").pop())).toEqual(["nft", "ip", "conntrack", "tini"]);
  });

  test("each container answers DNS on port 53, with every capability dropped but NET_ADMIN and NET_BIND_SERVICE", async () => {
    for (const [i, name] of names.entries()) {
      // The engine may store the names with or without the CAP_ prefix.
      const caps = (await docker("inspect", "--format", "{{json .HostConfig.CapDrop}} {{json .HostConfig.CapAdd}}", name)).trim().replaceAll("CAP_", "");
      expect(caps).toBe('["ALL"] ["NET_ADMIN","NET_BIND_SERVICE"]');
      const r = await dig({ host: ip(i), port: 53 }, ["thisnode.thisdcos.directory", "A"]);
      expect([r.status, r.answer.map((a) => a.data)]).toEqual(["NOERROR", [ip(i)]]);
    }
  });

  test("a task registered through one container's CLI is answered by all three; `dcnet ctl --all status` inside the image lists every node", async () => {
    const task = { id: "web-1", name: "web", framework: "marathon", runtime: "native", agentIp: ip(0), taskIps: ["10.9.0.7"], state: "running", ports: [] };
    const natsUrl = cluster.natsUrls()[0] as string;
    const add = await run("sh", ["-c", `echo '${JSON.stringify(task)}' | docker exec -i ${names[0]} dcnet ctl --nats ${natsUrl} --insecure --node img-0 task add -`]);
    expect(add.stderr).toBe("");
    for (const i of [0, 1, 2]) {
      await within(10_000, async () => {
        const r = await dig({ host: ip(i), port: 53 }, ["web.marathon.containerip.dcos.thisdcos.directory", "A"]);
        if (r.answer.map((a) => a.data).join() !== "10.9.0.7") throw new Error(`img-${i}: ${r.status} ${r.answer.map((a) => a.data).join()}`);
      }, 100);
    }
    const status = await docker("exec", names[1] as string, "dcnet", "ctl", "--nats", natsUrl, "--insecure", "--all", "status");
    for (const id of IDS) expect(status).toContain(id);
    const json = JSON.parse(await docker("exec", names[2] as string, "dcnet", "ctl", "--nats", natsUrl, "--insecure", "--all", "--json", "status")) as unknown;
    const nodes = (Array.isArray(json) ? json : Object.values(json as object)).map((r) => JSON.stringify(r));
    for (const id of IDS) expect(nodes.some((r) => r.includes(`"${id}"`))).toBe(true);
    // the HTTP API inside the image (loopback by default) sees the three nodes too
    const api = await docker("exec", names[0] as string, "node", "-e", "fetch('http://127.0.0.1:62080/v1/nodes').then(r=>r.text()).then(t=>process.stdout.write(t))");
    expect((JSON.parse(api) as Array<{ private_ip: string }>).map((n) => n.private_ip).sort()).toEqual([ip(0), ip(1), ip(2)].sort());
  });
});
