// Which UDP engine a DNS listener runs on. `batch` (native/udp-batch: recvmmsg/sendmmsg, one JS call
// per batch of datagrams) is what lets one Node.js thread keep up with unbound; `dgram` is Node's own
// socket, for machines where the addon could not be built. `auto` takes batch when it loaded.
import { createRequire } from "node:module";
import type { BatchStats, UdpBatchBinding } from "@dcnet/udp-batch";

export type UdpEngineName = "batch" | "dgram";
type UdpEngineChoice = UdpEngineName | "auto";

export interface UdpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly recvBufferBytes: number;
}

/** A bound, answering UDP listener of either engine. */
export interface UdpServer {
  readonly engine: UdpEngineName;
  readonly address: { readonly address: string; readonly port: number; readonly family: string };
  /** Batch engine counters (undefined for dgram). */
  stats(): BatchStats | undefined;
  close(): Promise<void>;
}

export type EngineSelection = { readonly engine: "batch"; readonly binding: UdpBatchBinding } | { readonly engine: "dgram"; readonly why: string };

let loaded: UdpBatchBinding | { readonly loadError: string } | undefined;

/** The addon, loaded once per process; a load failure is kept as its message, never thrown here. */
function loadUdpBatch(): UdpBatchBinding | { readonly loadError: string } {
  if (!loaded) {
    try {
      loaded = createRequire(import.meta.url)("@dcnet/udp-batch") as UdpBatchBinding | { readonly loadError: string };
    } catch (err) {
      loaded = { loadError: (err as Error).message };
    }
  }
  return loaded;
}

/** `batch` demanded but unavailable is a config error the caller reports; `auto` falls back with a reason. */
export function selectUdpEngine(choice: UdpEngineChoice, platform: NodeJS.Platform = process.platform): EngineSelection | { readonly error: string } {
  if (choice === "dgram") return { engine: "dgram", why: "dns.udpEngine is dgram" };
  const binding = platform === "linux" ? loadUdpBatch() : { loadError: `recvmmsg/sendmmsg are Linux only (this is ${platform})` };
  if (!("loadError" in binding)) return { engine: "batch", binding };
  const why = `the native batch engine is unavailable: ${binding.loadError}`;
  return choice === "batch" ? { error: `dns.udpEngine is batch but ${why} (rebuild it with: npm rebuild @dcnet/udp-batch)` } : { engine: "dgram", why };
}
