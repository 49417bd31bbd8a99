// The listeners' shared pieces: a query for a name outside our zones reaches the forwarder actor,
// and a missing or failing forwarder costs that query a SERVFAIL, never the listener.
import { describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { ActorRef, ReplyTo } from "../../../supervisors/index.js";
import { dnsConfigSection } from "../config.js";
import { ZoneBoard } from "../board.js";
import { DnsMetrics } from "../metrics.js";
import { recursionOffered, type ForwarderMsg, type ForwardReply } from "../forwarder.actor.js";
import { decode, queryBuf } from "../../../testkit/dns/wire.js";
import { queryPathFor, udpEngineFor } from "./setup.js";

const silent = pino({ level: "silent" });

/** A forwarder actor that answers every forward with `reply`. */
function forwarder(reply: (query: Buffer) => ForwardReply): ActorRef<ForwarderMsg> {
  return {
    path: "/node/dns/forwarder",
    tell: () => undefined,
    ask: <R>(build: (r: ReplyTo<R>) => ForwarderMsg) =>
      new Promise<R>((resolve) => {
        const msg = build(resolve as ReplyTo<R>);
        if (msg.type === "forward") resolve(reply(msg.req.query) as R);
      }),
  };
}

function answer(ref: ActorRef<ForwarderMsg> | undefined): Promise<Buffer> {
  const path = queryPathFor({ dns: dnsConfigSection.parse({}), board: new ZoneBoard(), metrics: new DnsMetrics(new Registry()), logger: silent, forwarder: () => ref });
  return new Promise((resolve) => path.handle(queryBuf("www.example.test"), "udp", undefined, (reply) => resolve(reply)));
}

describe("listen setup", () => {
  it("forwards names outside our zones to the forwarder actor and relays its reply", async () => {
    const reply = await answer(forwarder((q) => ({ ok: true, outcome: { reply: Buffer.from(q), rcode: "NOERROR", cached: false, zone: "." } })));
    expect(decode(reply).questions?.[0]?.name).toBe("www.example.test");
  });

  it("SERVFAIL while the forwarder restarts or when it fails the query", async () => {
    expect(decode(await answer(undefined)).rcode).toBe("SERVFAIL");
    expect(decode(await answer(forwarder(() => ({ ok: false, error: "boom" })))).rcode).toBe("SERVFAIL");
  });

  it("RA follows the forwarding configuration: upstreams, forward zones or .mesos forward mode (issue 16, defect 1)", () => {
    const cases: Array<[Record<string, unknown>, boolean]> = [
      [{}, false],
      [{ upstreams: ["10.0.0.2"] }, true],
      [{ forwardZones: { "corp.example": ["10.0.0.2"] } }, true],
      [{ mesos: { mode: "forward", resolvers: ["10.0.0.3"] } }, true],
      [{ mesos: { mode: "forward", resolvers: [] } }, false],
    ];
    for (const [dns, ra] of cases) expect([dns, recursionOffered(dnsConfigSection.parse(dns))]).toEqual([dns, ra]);
  });

  it("takes the engine asked for", () => {
    expect(udpEngineFor("dgram", silent)).toEqual({ engine: "dgram", why: "dns.udpEngine is dgram" });
  });
});
