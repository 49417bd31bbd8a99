// Public contract of the NATS transport. Actors and the admin service use only these types.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Tracer } from "@opentelemetry/api";
import type { z } from "zod";

/** Wire envelope around every dcnet message (msgpackr, plain msgpack). */
export interface Envelope<B = unknown> {
  /** Envelope version; receivers reject versions they do not know. */
  readonly v: 1;
  /** Message kind, e.g. "admin.ping". Selects the body schema. */
  readonly kind: string;
  /** Sender node id. */
  readonly from: string;
  /** Sender wall clock, ms since epoch. */
  readonly ts: number;
  readonly body: B;
}

/** A message kind with the schema its body must satisfy at the border. */
export interface KindDef<B> {
  readonly kind: string;
  readonly schema: z.ZodType<B>;
  /**
   * Messages of background work (heartbeats, digests, repair requests) or that only carry other work
   * (a delta batch): their publish/process spans are marked background (observability/background.ts).
   */
  readonly background?: boolean;
}

export type ConnState = "connecting" | "connected" | "disconnected" | "reconnecting" | "closed";

export interface ConnStatus {
  readonly state: ConnState;
  /** Server URL currently in use, when connected. */
  readonly server?: string;
  readonly since: number;
}

export interface TransportOptions {
  /** One or more nats:// URLs. */
  readonly servers: readonly string[];
  readonly cluster: string;
  readonly nodeId: string;
  readonly logger: Logger;
  /** The node's registry; a short-lived client (the CLI) passes none and registers no metrics. */
  readonly metrics?: Registry;
  /** When set, requests and handlers create spans and carry W3C trace context in headers. */
  readonly tracer?: Tracer;
  /** Reconnect wait base (ms); jitter is added. Default 250. */
  readonly reconnectWaitMs?: number;
  /** Log a rejection of a given kind at most once per interval. Default 10000. */
  readonly rejectLogIntervalMs?: number;
  /** Client ping interval (ms); a silent server is declared dead after 3 missed pongs. Default 5000. */
  readonly pingIntervalMs?: number;
  /**
   * Give up on the first connection after this long (one pass over the servers), throwing ConnectError.
   * Unset (nodes): wait for a server forever. Set it in short-lived clients such as the CLI.
   */
  readonly connectTimeoutMs?: number;
  /** Larger messages are rejected at the border ("too-large"). Default 1 MiB (the NATS default max_payload). */
  readonly maxMessageBytes?: number;
  /**
   * TLS with a client certificate (PEM texts: the CA that signed the servers' certificates, this
   * client's certificate and key; transport/auth's loadCredential reads them from a bundle). The
   * connection upgrades to TLS even on a nats:// URL and verifies the server against `ca`.
   */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
  /**
   * Prefix of this connection's reply inboxes (default `_INBOX`). With credentials it is
   * `_INBOX.<cluster>.<name>` (transport/auth inboxPrefix), the only inboxes its permissions let it hear.
   */
  readonly inboxPrefix?: string;
}

/** What the server in use demands of its clients (its INFO); a node refuses to run where nothing is demanded. */
export interface ServerSecurity {
  readonly tlsRequired: boolean;
  /** A client certificate signed by the server's CA is required (TLS verify / verify_and_map). */
  readonly clientCertRequired: boolean;
  /** The server authenticates clients (certificate mapping, user/password, token, nkey). */
  readonly authRequired: boolean;
}

/**
 * Why a message was rejected at the border; also the metric label. `forged-sender`: the envelope's
 * `from` is not the sender token of the subject it arrived on (subscribe's `senderToken`).
 */
export type RejectReason = "undecodable" | "not-an-envelope" | "unknown-version" | "unknown-kind" | "invalid-body" | "too-large" | "forged-sender";

export type DecodeResult<B> =
  | { readonly ok: true; readonly env: Envelope<B> }
  | { readonly ok: false; readonly reason: RejectReason; readonly kind: string; readonly message: string };
