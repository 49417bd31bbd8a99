// The host's previous resolvers as upstreams: from the backup when there is one, never the node's
// own addresses, and only with dns.manageResolvConf and no dns.upstreams.
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { validateConfig } from "../../node/config.js";
import { withHostUpstreams } from "./upstreams.js";

const log = pino({ level: "silent" });

describe("the host's resolvers as upstreams", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "dcnet-upstreams-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const dns = (extra: Record<string, unknown>) => validateConfig({ id: "n1", dns: { resolver: { enabled: true }, manageResolvConf: true, resolvConf: { path: join(dir, "resolv.conf") }, ...extra } }).dns;

  it("takes the live file's nameservers, or the backup's when a run that did not stop left its own file", () => {
    writeFileSync(join(dir, "resolv.conf"), "nameserver 10.0.0.2\nnameserver 2001:db8::53\n");
    expect(withHostUpstreams(dns({}), log).upstreams).toEqual(["10.0.0.2", "[2001:db8::53]:53"]);
    writeFileSync(join(dir, "resolv.conf"), "# Written by dcnet\nnameserver 198.51.100.1\n");
    expect(withHostUpstreams(dns({}), log).upstreams).toEqual([]);
    writeFileSync(join(dir, "resolv.conf.dcnet-backup"), "nameserver 10.0.0.9\n");
    expect(withHostUpstreams(dns({}), log).upstreams).toEqual(["10.0.0.9"]);
  });

  it("configured upstreams win; without management nothing is read", () => {
    writeFileSync(join(dir, "resolv.conf"), "nameserver 10.0.0.2\n");
    expect(withHostUpstreams(dns({ upstreams: ["10.1.1.1"] }), log).upstreams).toEqual(["10.1.1.1"]);
    expect(withHostUpstreams(dns({ manageResolvConf: false }), log).upstreams).toEqual([]);
  });
});
