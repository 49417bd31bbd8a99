// The batched UDP engine (native/udp-batch): the addon reads up to BATCH datagrams per recvmmsg into
// one shared buffer and calls here once; each query is answered through the QueryPath as usual and
// the answers go back in one sendmmsg. Datagram buffers and slot numbers are only lent for the call,
// so the QueryPath gets `keep`, which copies the sender's address for answers that come later
// (forwarded queries), sent on their own with sendTo.
//
// Receive errors come back from the addon one by one: each is counted by errno name, logged the first
// time that errno is seen on this listen address, and a fatal one (the addon has stopped reading)
// goes to `onDead`, which the listener actor turns into a crash: its supervisor opens a new socket.
import type { Logger } from "pino";
import type { UdpBatchBinding } from "@dcnet/udp-batch";
import type { QueryPath } from "./serve.js";
import type { DnsMetrics } from "../metrics.js";
import type { UdpServer, UdpServerOptions } from "./udp-engine.js";

/** Datagrams per syscall: under load a batch fills to a few dozen; more only grows the buffer. */
const BATCH = 64;
/** A receive slot; a query longer than this (no real client sends one) is counted oversized. */
const SLOT = 4096;

/** Held by a query answered later: a copy of the sender's socket address. */
type Peer = number | Buffer;

export interface BatchErrorSink {
  /** The listen address as configured (the metric's label). */
  readonly listen: string;
  /** errno names already logged for this listen address: kept across reopened sockets, so one cause logs once. */
  readonly logged: Set<string>;
  /** The socket stopped reading for good. */
  readonly onDead: (err: Error) => void;
}

export function openBatchUdp(binding: UdpBatchBinding, opts: UdpServerOptions, path: QueryPath, metrics: DnsMetrics, logger: Logger, errors: BatchErrorSink): UdpServer {
  const sock = binding.open({ host: opts.host, port: opts.port, recvBufferBytes: opts.recvBufferBytes, batch: BATCH, slot: SLOT });
  const rx = Buffer.from(sock.rx);
  const lens = new Int32Array(sock.lens);
  const waits = new Int32Array(sock.waits);
  const replies = new Array<Buffer | undefined>(BATCH).fill(undefined);
  const send = (reply: Buffer, peer: Peer): void => {
    if (typeof peer === "number") replies[peer] = reply;
    else binding.sendTo(sock, reply, peer);
  };
  const keep = (peer: Peer): Peer => (typeof peer === "number" ? binding.peer(sock, peer) : peer);
  let failures = 0;
  binding.start(
    sock,
    (n) => {
      for (let i = 0; i < n; i++) {
        replies[i] = undefined;
        const waited = waits[i] as number;
        if (waited >= 0) metrics.udpQueued.observe(waited / 1e6);
        const len = lens[i] as number;
        if (len < 0) {
          path.oversized("udp", -len);
          continue;
        }
        try {
          path.handle(rx.subarray(i * SLOT, i * SLOT + len), "udp", i, send, keep);
        } catch (err) {
          // A bug on one query must not cost the other queries of its batch their answers.
          if (failures++ < 20) logger.error({ err: (err as Error).message }, "DNS query failed inside a UDP batch");
        }
      }
    },
    replies,
    (code, errno, fatal) => {
      metrics.udpReceiveErrors.inc({ listen: errors.listen, code, fatal: String(fatal) });
      if (fatal) {
        logger.error({ listen: errors.listen, code, errno }, "DNS UDP socket failed; opening a new one");
        errors.onDead(Object.assign(new Error(`DNS UDP socket ${errors.listen} failed: ${code}`), { code, errno: -errno, syscall: "recvmmsg" }));
      } else if (!errors.logged.has(code)) {
        errors.logged.add(code);
        logger.warn({ listen: errors.listen, code, errno }, `DNS UDP receive error ${code} (counted in dcnet_dns_udp_receive_errors_total; logged once per errno)`);
      }
    },
  );
  let open = true;
  return {
    engine: "batch",
    address: binding.address(sock),
    stats: () => (open ? binding.stats(sock) : undefined),
    close: () => {
      open = false;
      binding.close(sock);
      return Promise.resolve();
    },
  };
}
