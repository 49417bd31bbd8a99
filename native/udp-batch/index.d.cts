/** A bound UDP socket read and written in batches; `rx` holds the current batch's datagrams. */
export interface BatchSocket {
  /** batch × slot bytes: datagram i of the current batch starts at i × slot. */
  readonly rx: ArrayBuffer;
  /** Int32 per slot: datagram i's length, negative when it was longer than a slot (cut). */
  readonly lens: ArrayBuffer;
  /** Int32 per slot: µs datagram i waited in the socket buffer before it was read (kernel timestamp); -1 unknown. */
  readonly waits: ArrayBuffer;
}

export interface OpenOptions {
  readonly host: string;
  readonly port: number;
  /** Datagrams per recvmmsg/sendmmsg (1–1024, default 64). */
  readonly batch?: number;
  /** Bytes per receive slot (512–65536, default 4096). */
  readonly slot?: number;
  readonly recvBufferBytes?: number;
}

export interface BatchStats {
  readonly batches: number;
  readonly received: number;
  readonly sent: number;
  readonly sendDropped: number;
  readonly truncated: number;
  readonly recvErrors: number;
  readonly lastErrno: number;
}

export interface UdpBatchBinding {
  open(options: OpenOptions): BatchSocket;
  /**
   * onBatch(n) runs once per batch; the answer to datagram i is left in replies[i] (or not, for none).
   * onError runs for each receive error: `code` as Node names it (e.g. "EBADF"); `fatal` when the
   * socket will not recover and reading has stopped (the caller opens a new one).
   */
  start(socket: BatchSocket, onBatch: (count: number) => void, replies: Array<Buffer | undefined>, onError?: (code: string, errno: number, fatal: boolean) => void): void;
  /** For tests: the next readable event fails with `errno` through the receive-error path, instead of reading. */
  injectError(socket: BatchSocket, errno: number): void;
  /** A copy of datagram i's source address, valid after the batch (for sendTo). */
  peer(socket: BatchSocket, slot: number): Buffer;
  /** Sends now; 0, or a negative errno. */
  sendTo(socket: BatchSocket, data: Buffer, peer: Buffer): number;
  address(socket: BatchSocket): { address: string; port: number; family: "IPv4" | "IPv6" };
  stats(socket: BatchSocket): BatchStats;
  close(socket: BatchSocket): void;
}

declare const binding: UdpBatchBinding | { readonly loadError: string };
export = binding;
