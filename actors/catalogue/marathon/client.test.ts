// Marathon's HTTP side against a local server on 127.0.0.1: a standby's redirect followed, each
// failure a typed error with its code, the event stream read across chunks and ended on abort.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { followEvents, marathonGet } from "./client.js";
import type { SseEvent } from "./sse.js";

let server: Server;
let base = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? "";
    if (url === "/standby/v2/info") return void res.writeHead(307, { location: `${base}/v2/info` }).end();
    if (url === "/v2/info") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ name: "marathon", frameworkId: "fw-1", auth: req.headers.authorization ?? null }));
    if (url === "/v2/apps?embed=apps.tasks") return void res.writeHead(200).end('{"apps": [');
    if (url === "/slow") return void setTimeout(() => res.writeHead(200).end("{}"), 1000);
    if (url === "/sse/v2/events") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("event: a\ndata: {\"x\"");
      setTimeout(() => res.end(":1}\n\nevent: b\ndata: 2\n\n"), 30);
      return;
    }
    if (url === "/open/v2/events") return void res.writeHead(200, { "content-type": "text/event-stream" }).write(": hello\n\n");
    res.writeHead(503).end("Service Unavailable: not the leader and no leader known");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("marathon client", () => {
  it("follows a standby's redirect to the leader and sends the token", async () => {
    expect(await marathonGet(`${base}/standby`, "/v2/info", { timeoutMs: 2000, token: "t0k" })).toEqual({ name: "marathon", frameworkId: "fw-1", auth: "token=t0k" });
  });

  it("names each failure: HTTP status, malformed JSON, no answer in time, refused", async () => {
    await expect(marathonGet(base, "/v2/nope", { timeoutMs: 2000 })).rejects.toMatchObject({ code: "DCNET_E_MARATHON_HTTP", status: 503, message: expect.stringContaining("not the leader") });
    await expect(marathonGet(base, "/v2/apps?embed=apps.tasks", { timeoutMs: 2000 })).rejects.toMatchObject({ code: "DCNET_E_MARATHON_JSON", message: expect.stringContaining("the answer is not JSON") });
    await expect(marathonGet(base, "/slow", { timeoutMs: 100 })).rejects.toMatchObject({ code: "DCNET_E_MARATHON_TIMEOUT" });
    await expect(marathonGet("http://127.0.0.1:1", "/v2/info", { timeoutMs: 2000 })).rejects.toMatchObject({ code: "DCNET_E_MARATHON_UNREACHABLE" });
  });

  it("reads events across chunks; a stream the server ends is a failure; an abort ends it quietly", async () => {
    const got: SseEvent[] = [];
    let opened = 0;
    const ended = followEvents(`${base}/sse`, { timeoutMs: 2000, signal: new AbortController().signal, onOpen: () => opened++, onEvent: (e) => got.push(e) });
    await expect(ended).rejects.toMatchObject({ code: "DCNET_E_MARATHON_UNREACHABLE", message: expect.stringContaining("ended the event stream") });
    expect(opened).toBe(1);
    expect(got).toEqual([
      { type: "a", data: '{"x":1}' },
      { type: "b", data: "2" },
    ]);
    const abort = new AbortController();
    const open = followEvents(`${base}/open`, { timeoutMs: 100, signal: abort.signal, onOpen: () => setTimeout(() => abort.abort(), 300), onEvent: () => undefined });
    // Quiet for longer than timeoutMs after the headers: still open (the timeout covers only the headers).
    await expect(open).resolves.toBeUndefined();
    await expect(followEvents(base, { timeoutMs: 2000, signal: new AbortController().signal, onOpen: () => undefined, onEvent: () => undefined })).rejects.toMatchObject({ code: "DCNET_E_MARATHON_HTTP", status: 503 });
  });
});
