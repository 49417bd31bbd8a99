// The import boundaries of docs/architecture.md are enforced by `npm run lint`; these fixtures show
// the rule fires on each kind of violation (and stays quiet on the allowed forms), so a config edit
// that silently disables it fails here.
import { describe, it, expect } from "@jest/globals";
import { ESLint } from "eslint";
import { fileURLToPath } from "node:url";

const cwd = fileURLToPath(new URL("..", import.meta.url));
const eslint = new ESLint({ cwd });

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("import boundaries (eslint no-restricted-imports)", () => {
  it("fails an import that reaches past another subsystem's door, from any depth", async () => {
    expect(await restricted("actors/dns/fixture.ts", 'import { TASKS_PREFIX } from "../catalogue/keys.js";\nexport const x = TASKS_PREFIX;\n')).toEqual([expect.stringContaining("through its door (catalogue/index.js")]);
    expect(await restricted("actors/dns/zones/fixture.ts", 'import type { StoreMsg } from "../../gossip/store/types.js";\nexport type X = StoreMsg;\n')).toEqual([expect.stringContaining("gossip/index.js")]);
    expect(await restricted("cli/fixture.ts", 'import { startNode } from "../actors/node/run.js";\nexport const x = startNode;\n')).toEqual([expect.stringContaining("door")]);
  });

  it("keeps an ops module light: runtime pieces as types only", async () => {
    expect(await restricted("actors/dns/ops.ts", 'import { zoneBehaviour } from "./zone.actor.js";\nexport const x = zoneBehaviour;\n')).toEqual([expect.stringContaining("stays light")]);
    expect(await restricted("actors/dns/ops.ts", 'import type { ZoneMsg } from "./zone.actor.js";\nexport type X = ZoneMsg;\n')).toEqual([]);
    expect(await restricted("cli/fixture.ts", 'import { DNS_OPS } from "../actors/dns/ops.js";\nexport const x = DNS_OPS;\n')).toEqual([]);
  });

  it("keeps a config module light: zod, config/ and pure helpers; composed through config.js doors", async () => {
    expect(await restricted("actors/dns/config.ts", 'import { udpBehaviour } from "./udp.actor.js";\nexport const x = udpBehaviour;\n')).toEqual([expect.stringContaining("config module stays light")]);
    expect(await restricted("actors/dns/config.ts", 'import { TASKS_PREFIX } from "../catalogue/index.js";\nexport const x = TASKS_PREFIX;\n')).toEqual([expect.stringContaining("config module stays light")]);
    expect(await restricted("actors/dns/config.ts", 'import { customZonesSchema } from "./zones/custom.js";\nimport { listenAddress } from "../../config/index.js";\nexport const x = [customZonesSchema, listenAddress];\n')).toEqual([]);
    expect(await restricted("actors/node/config.ts", 'import { dnsConfigSection } from "../dns/config.js";\nexport const x = dnsConfigSection;\n')).toEqual([]);
    expect(await restricted("cli/fixture.ts", 'import { loadConfig } from "../actors/node/config.js";\nexport const x = loadConfig;\n')).toEqual([]);
  });

  it("lets a subsystem use another's door and its own internals", async () => {
    expect(await restricted("actors/dns/fixture.ts", 'import { TASKS_PREFIX } from "../catalogue/index.js";\nimport { DNS } from "./dns.sup.js";\nexport const x = [TASKS_PREFIX, DNS];\n')).toEqual([]);
  });

  it("fails a socket, file, process, NATS or actor import in a pure folder", async () => {
    for (const [file, spec] of [
      ["actors/dns/wire/fixture.ts", "node:dgram"],
      ["actors/dns/zones/fixture.ts", "node:fs"],
      ["actors/gossip/crdt/fixture.ts", "@nats-io/nats-core"],
      ["actors/dns/mesos-dns/fixture.ts", "child_process"],
      ["actors/dns/wire/fixture.ts", "../zone.actor.js"],
    ] as const) {
      expect(await restricted(file, `import * as m from "${spec}";\nexport const x = m;\n`)).toEqual([expect.stringMatching(/pure folder/)]);
    }
    // The same socket import outside a pure folder is fine.
    expect(await restricted("actors/dns/fixture.ts", 'import * as m from "node:dgram";\nexport const x = m;\n')).toEqual([]);
  });

  it("keeps lower layers free of actors and production code free of test kits", async () => {
    expect(await restricted("config/fixture.ts", 'import { DNS } from "../actors/dns/index.js";\nexport const x = DNS;\n')).toEqual([expect.stringContaining("never import actors/")]);
    expect(await restricted("actors/dns/fixture.ts", 'import { makeQuery } from "../../testkit/dns/servers.js";\nexport const x = makeQuery;\n')).toEqual([expect.stringContaining("test kits")]);
    expect(await restricted("actors/dns/fixture.test.ts", 'import { makeQuery } from "../../testkit/dns/servers.js";\nexport const x = makeQuery;\n')).toEqual([]);
  });
});
