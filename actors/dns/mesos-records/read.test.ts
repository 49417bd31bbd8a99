// One refresh of the .mesos source against a master served over HTTP: the records Mesos-DNS would
// generate, grouped per name; the same document again is `unchanged`; an unreachable master and a
// body that is not JSON are told apart and never throw.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { benchStateText, oracleRecords } from "../../../testkit/dns/mesos-dns-oracle.js";
import { readMesosRecords, type ReadRequest } from "./read.js";

let body = benchStateText();
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url !== "/master/state") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const request = (over: Partial<ReadRequest> = {}): ReadRequest => ({
  master: url,
  timeoutMs: 5000,
  generate: { domain: "mesos", ns: "ns1.mesos.", listener: "10.0.0.1", localAddresses: ["10.0.0.1"], masters: [], ipSources: ["netinfo", "mesos", "host"], enforceRFC952: false },
  ...over,
});

describe("readMesosRecords", () => {
  it("generates the bench state's task records, one entry per name, and a digest to skip it next time", async () => {
    const out = await readMesosRecords(request());
    if (out.kind !== "records") throw new Error(`expected records, got ${out.kind}`);
    const names = new Map(out.names);
    expect(names.size).toBe(out.names.length);
    expect(JSON.parse(names.get("app-0999.marathon.mesos") ?? "null")).toEqual(["A 10.0.3.250"]);
    // every task record of the Mesos-DNS oracle for this state (names under the framework) is there
    const generated = new Set(out.names.flatMap(([name, rrs]) => (JSON.parse(rrs) as string[]).map((rr) => `${rr.replace(" ", `\t${name}.\t`)}`)));
    const oracle = oracleRecords("bench-state.default-rfc1123.tsv").filter((l) => l.includes(".marathon.mesos.\t"));
    expect(oracle.length).toBeGreaterThan(1000);
    expect(oracle.filter((l) => !generated.has(l))).toEqual([]);
    expect(await readMesosRecords(request({ lastDigest: out.digest }))).toEqual({ kind: "unchanged" });
  });

  it("a master that does not answer is unreadable; a body that is not JSON is not-json; neither throws", async () => {
    expect(await readMesosRecords(request({ master: "http://127.0.0.1:1", timeoutMs: 2000 }))).toMatchObject({ kind: "unreadable", error: expect.any(String) });
    body = "<html>not json</html>";
    try {
      expect(await readMesosRecords(request())).toMatchObject({ kind: "not-json", error: expect.stringMatching(/JSON/) });
    } finally {
      body = benchStateText();
    }
  });
});
