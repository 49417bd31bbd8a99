import { describe, it, expect } from "@jest/globals";
import * as dnsPacket from "dns-packet";
import type { ActorRef, ReplyTo } from "../../supervisors/index.js";
import { startFakeUdp } from "../../testkit/dns/servers.js";
import type { CliInput, OpContext } from "../admin/ops.js";
import type { UdpMsg, ZoneMsg } from "./index.js";
import { dnsLookup, dnsRecords } from "./ops.js";

function fakeRef<M>(path: string, answer: (m: M) => void): ActorRef<never> {
  const ref: ActorRef<M> = { path, tell: answer, ask: <R>(build: (reply: ReplyTo<R>) => M) => new Promise<R>((resolve) => answer(build(resolve))) };
  return ref as unknown as ActorRef<never>;
}

function context(refs: ReadonlyArray<ActorRef<never>>): OpContext {
  return {
    config: { id: "n1" } as OpContext["config"],
    actor: <M>(path: string) => {
      const ref = refs.find((r) => r.path === path);
      if (!ref) throw new Error(`${path} is not running on this node`);
      return ref as unknown as ActorRef<M>;
    },
  } as OpContext;
}

function input(args: string[]): CliInput {
  return { arg: (i) => args[i] ?? "", optionalArg: (i) => args[i], option: () => undefined, readText: async () => "" };
}

const row = { name: "thisnode.thisdcos.directory", type: "A" as const, ttl: 5, data: "10.0.0.1" };

describe("dns admin ops", () => {
  it("records: one zone or all, in zone-file form; an unknown zone is a 404 naming the zones", async () => {
    const zone = fakeRef<ZoneMsg>("/node/dns/zone", (m) => (m.type === "records" ? m.reply({ zones: ["thisdcos.directory", "mesos"], rows: [row] }) : undefined));
    const r = await dnsRecords.handle({ zone: "thisdcos.directory." }, context([zone]));
    expect(r).toEqual({ node: "n1", zones: ["thisdcos.directory", "mesos"], rows: [row] });
    expect(dnsRecords.human(r, 0)).toBe("thisnode.thisdcos.directory.\t5\tIN\tA\t10.0.0.1");
    expect(dnsRecords.human({ node: "n1", zones: ["mesos"], rows: [] }, 0)).toBe("(no records; zones on n1: mesos)");
    await expect(dnsRecords.handle({ zone: "nosuch.zone" }, context([zone]))).rejects.toMatchObject({ status: 404, message: "no zone nosuch.zone on this node; zones: thisdcos.directory, mesos" });
    expect(await dnsRecords.cli[0]?.request(input([]))).toEqual({});
    expect(await dnsRecords.cli[0]?.request(input(["mesos"]))).toEqual({ zone: "mesos" });
  });

  it("lookup sends a real query to the node's listener and prints it like dig", async () => {
    const upstream = await startFakeUdp((msg, rinfo, socket) => {
      const q = dnsPacket.decode(msg);
      const answer = dnsPacket.encode({ type: "response", id: q.id ?? 0, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: q.questions ?? [], answers: [{ type: "A", name: "www.example.test", ttl: 7, data: "192.0.2.7" }] });
      socket.send(answer, rinfo.port, rinfo.address);
    });
    try {
      const udp = fakeRef<UdpMsg>("/node/dns/udp-0", (m) => (m.type === "address" ? m.reply(upstream.key) : undefined));
      const r = await dnsLookup.handle({ name: "www.example.test", type: "a" }, context([udp]));
      expect(r).toMatchObject({ node: "n1", server: upstream.key, rcode: "NOERROR", flags: ["aa"], answers: [{ name: "www.example.test", type: "A", ttl: 7, data: "192.0.2.7" }] });
      expect(dnsLookup.human(r, 0)).toMatch(new RegExp(`^;; NOERROR \\(aa\\) from ${upstream.key} on n1 in \\d+ ms\\n;; ANSWER\\nwww\\.example\\.test\\.\\t7\\tIN\\tA\\t192\\.0\\.2\\.7$`));
      expect(dnsLookup.summary(r)).toBe("NOERROR, 1 answers");
    } finally {
      await upstream.close();
    }
    expect(await dnsLookup.cli[0]?.request(input(["web.mesos"]))).toEqual({ name: "web.mesos", type: "A" });
    expect(await dnsLookup.cli[0]?.request(input(["web.mesos", "SRV"]))).toEqual({ name: "web.mesos", type: "SRV" });
  });

  it("says why a DNS actor can be missing", async () => {
    const ctx = { config: { id: "n1" }, actor: (path: string, hint?: string) => { throw new Error(`${path} is not running on this node (${hint})`); } } as unknown as OpContext;
    await expect(dnsRecords.handle({}, ctx)).rejects.toThrow("/node/dns/zone is not running on this node (dns.enabled false, or restarting)");
  });
});
