// Lookups for /v1/hosts and /v1/services go to the node's own DNS listener over UDP, so the API
// answers exactly what a DNS client gets (zones, .mesos, rotation, forwarding), with no second
// lookup path to drift. One socket for all requests, matched by message id.
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import dnsPacket from "dns-packet";
import type { Answer } from "./shapes.js";

export type QueryType = "A" | "AAAA" | "SRV";

export interface DnsReply {
  readonly rcode: string;
  readonly answers: readonly Answer[];
}

export class ListenerResolver {
  readonly #pending = new Map<number, { resolve: (r: DnsReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #socket: Socket | undefined;
  #nextId = Math.floor(Math.random() * 65536);

  /** `server()` gives the listener's `ip:port` (it can move when DNS restarts). */
  constructor(private readonly server: () => Promise<{ host: string; port: number }>, private readonly timeoutMs = 3000) {}

  async query(name: string, type: QueryType): Promise<DnsReply> {
    const { host, port } = await this.server();
    const sock = this.#open(host);
    let id = this.#nextId;
    for (let i = 0; this.#pending.has(id) && i < 65536; i++) id = (id + 1) & 0xffff;
    if (this.#pending.has(id)) throw new Error("too many DNS lookups in flight");
    this.#nextId = (id + 1) & 0xffff;
    const packet = dnsPacket.encode({
      type: "query",
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type, class: "IN", name: name.replace(/\.$/, "") }],
      additionals: [{ type: "OPT", name: ".", udpPayloadSize: 65_000, flags: 0, options: [] } as unknown as dnsPacket.Answer],
    });
    return new Promise<DnsReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no answer from the DNS listener ${host}:${port} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      sock.send(packet, port, host, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err);
      });
    });
  }

  close(): void {
    for (const [, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new Error("resolver closed"));
    }
    this.#pending.clear();
    this.#socket?.close();
    this.#socket = undefined;
  }

  #open(host: string): Socket {
    if (this.#socket) return this.#socket;
    const sock = createSocket(isIPv6(host) ? "udp6" : "udp4");
    sock.on("message", (msg) => this.#onMessage(msg));
    sock.on("error", () => {
      // A broken socket: drop it; the next query opens another, pending ones time out.
      this.#socket = undefined;
      sock.close();
    });
    this.#socket = sock;
    return sock;
  }

  #onMessage(msg: Buffer): void {
    let p: dnsPacket.Packet;
    try {
      p = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const waiting = p.id === undefined ? undefined : this.#pending.get(p.id);
    if (!waiting || p.id === undefined) return;
    clearTimeout(waiting.timer);
    this.#pending.delete(p.id);
    const answers: Answer[] = (p.answers ?? []).map((a): Answer => {
      if (a.type === "A" || a.type === "AAAA") return { type: a.type, name: a.name, data: a.data };
      if (a.type === "SRV") return { type: "SRV", name: a.name, data: { target: a.data.target, port: a.data.port } };
      return { type: "other", name: a.name };
    });
    // dns-packet decodes the header's rcode, though its type declarations leave it out.
    waiting.resolve({ rcode: (p as { rcode?: string }).rcode ?? "NOERROR", answers });
  }
}

/** A listener bound to a wildcard address is reached on loopback. */
export function reachable(host: string): string {
  return host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
}
