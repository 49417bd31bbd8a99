// Bad input at the admin border: 10,000 malformed admin messages against a real node process.
// The node must stay up, answer every request that had a reply subject with an error naming the
// problem, count every message, and keep serving valid requests.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import { startNatsServer, type NatsServerHandle } from "./harness/nats-local.js";
import { spawnDcnet, isReady, type DcnetProcess } from "./support/dcnet-process.js";
import { connectAdmin, type TestAdmin } from "./support/admin.js";

jest.setTimeout(120_000);

const TOTAL = 10_000;
const OPS = ["ping", "status", "crash", "log-level", "shutdown"] as const;
const packr = new Packr({ useRecords: false });

/** Deterministic PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Bad = { readonly op: string; readonly data: Uint8Array; readonly expect: RegExp };

function malformed(i: number, rand: () => number): Bad {
  const op = OPS[Math.floor(rand() * OPS.length)] ?? "ping";
  const env = (over: Record<string, unknown>) => packr.pack({ v: 1, kind: `admin.${op}`, from: "fuzzer", ts: Date.now(), body: {}, ...over });
  switch (i % 6) {
    case 0: {
      const bytes = new Uint8Array(1 + Math.floor(rand() * 300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      // 0xc1 is never valid msgpack: keeps random bytes from decoding by chance into an envelope.
      bytes[0] = 0xc1;
      return { op, data: bytes, expect: /not msgpack|envelope|^bad \S+ request: v: /i };
    }
    case 1:
      return { op, data: packr.pack([1, 2, 3, "not", { an: "envelope" }]), expect: /envelope/i };
    case 2:
      return { op, data: env({ v: 2 }), expect: /version/i };
    case 3:
      return { op, data: env({ kind: "admin.bogus" }), expect: /kind/i };
    case 4:
      return op === "crash" || op === "log-level"
        ? { op, data: env({ body: op === "crash" ? { path: 42 } : { level: "loud" } }), expect: op === "crash" ? /body\.path/ : /body\.level/ }
        : { op, data: env({ body: { unexpected: true } }), expect: /body/i };
    default:
      return { op, data: new Uint8Array(70 * 1024).fill(0x61), expect: /bytes; the limit is 65536/ };
  }
}

describe("admin border - 10,000 malformed messages", () => {
  let server: NatsServerHandle;
  let node: DcnetProcess;
  let nc: NatsConnection;
  let t: TestAdmin;

  beforeAll(async () => {
    server = await startNatsServer({});
    node = spawnDcnet(["node", "--nats", server.url, "--id", "victim", "--insecure"]);
    await node.waitForLine(isReady, 20_000);
    t = await connectAdmin([server.url]);
    nc = await connect({ servers: server.url });
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await t?.close();
    await node?.stop();
    await server?.stop();
  });

  test("node stays alive, every request gets an error reply that names the problem, all are counted", async () => {
    const rand = rng(7);
    await t.admin.request("victim", "ping", {}, 5000);
    const pid = (await t.admin.request("victim", "status", {})).pid;
    let replied = 0;
    let published = 0;
    const wrong: string[] = [];
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < TOTAL; i++) {
      const bad = malformed(i, rand);
      const subject = `dcnet.dcnet.admin.admin.victim.${bad.op}`;
      if (i % 2 === 1) {
        nc.publish(subject, bad.data);
        published++;
        continue;
      }
      const p = nc
        .request(subject, bad.data, { timeout: 10_000 })
        .then((m) => {
          const code = m.headers?.get("Nats-Service-Error-Code");
          const text = m.headers?.get("Nats-Service-Error") ?? "";
          const body = packr.unpack(m.data) as { kind?: string; body?: { message?: string; code?: string } };
          if (code !== "400" || body.kind !== "admin.error" || body.body?.code !== "DCNET_E_ADMIN_BAD_REQUEST" || !bad.expect.test(text)) {
            wrong.push(`#${i} ${bad.op}: code=${code} kind=${body.kind} text=${text}`);
          }
          replied++;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 200) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(replied).toBe(TOTAL / 2);
    expect(published).toBe(TOTAL / 2);

    // Fire-and-forget messages are counted too, once the actor has worked through its mailbox.
    // Twice in CI (never here, even with the cores saturated) one status request after the flood
    // went unanswered (at 2 s, then at 20 s): a request that times out is asked again, and what
    // the node and the NATS server logged meanwhile is printed, so the next occurrence says why.
    let counted = 0;
    let unanswered = 0;
    for (let tries = 0; tries < 100 && counted < TOTAL; tries++) {
      let s;
      try {
        s = await t.admin.request("victim", "status", {}, 5000);
      } catch (err) {
        if ((err as { code?: string }).code !== "DCNET_E_TIMEOUT" || ++unanswered > 5) throw err;
        continue;
      }
      counted = s.rejected.reduce((n, r) => n + r.count, 0);
      if (counted < TOTAL) await new Promise((r) => setTimeout(r, 200));
    }
    if (unanswered > 0) {
      const noted = node.lines().filter((l) => ["warn", "error", "fatal", "40", "50", "60"].includes(String(l.level)));
      console.log(`status unanswered ${unanswered} time(s) after the flood; node warnings/errors:\n${noted.map((l) => JSON.stringify(l)).join("\n")}\nnats-server:\n${server.logs().slice(-20).join("\n")}`);
    }
    expect(counted).toBe(TOTAL);
    const s = await t.admin.request("victim", "status", {}, 5000);
    const reasons = new Set(s.rejected.map((r) => r.reason));
    for (const r of ["invalid-body", "too-large", "undecodable", "unknown-kind", "unknown-version"]) expect(reasons).toContain(r);
    // Rate-limited logging: a handful of lines, not one per message.
    expect(node.lines().filter((l) => /rejected/.test(String(l.msg))).length).toBeLessThan(100);
    // Same process, nothing restarted, still serving.
    expect(s.pid).toBe(pid);
    expect(s.actors.every((a) => a.restarts === 0)).toBe(true);
    expect((await t.admin.request("victim", "ping", {})).node).toBe("victim");
    expect(node.child.exitCode).toBeNull();
  });
});
