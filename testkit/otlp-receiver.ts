// A minimal OTLP/HTTP JSON trace receiver for tests: no collector or Jaeger is packaged for this machine
// (shared/reference/stack.md §3.3), and asserting on what actually crossed the wire is the point.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty string for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER. */
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
  readonly resource: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  spans(): ReceivedSpan[];
  /** Resolves with all spans once `predicate` holds; rejects after timeoutMs with the span tree in the message. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Spans (default: all received) as an indented tree per trace, for failure messages. */
  tree(spans?: readonly ReceivedSpan[]): string;
  close(): Promise<void>;
}

interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{ spans?: Array<{ traceId?: string; spanId?: string; parentSpanId?: string; name?: string; kind?: number; attributes?: OtlpKeyValue[] }> }>;
  }>;
}

const MAX_BODY = 16 * 1024 * 1024;

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  const server = createServer((req, res) => void handle(req, res, received));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  const tree = (spans: readonly ReceivedSpan[] = received): string => formatTree(spans);
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...received],
    tree,
    async waitFor(predicate, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate([...received])) {
        if (Date.now() > deadline) throw new Error(`OTLP receiver: condition not met within ${timeoutMs} ms; received:\n${tree()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return [...received];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, into: ReceivedSpan[]): Promise<void> {
  if (req.method !== "POST" || req.url !== "/v1/traces") return reply(res, 404, { error: "only POST /v1/traces" });
  if (!(req.headers["content-type"] ?? "").startsWith("application/json")) return reply(res, 415, { error: "only OTLP/JSON" });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return reply(res, 413, { error: "too large" });
    chunks.push(chunk as Buffer);
  }
  try {
    into.push(...parseExport(JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpExport));
  } catch (err) {
    return reply(res, 400, { error: err instanceof Error ? err.message : String(err) });
  }
  reply(res, 200, {});
}

function reply(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function parseExport(body: OtlpExport): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({ traceId: s.traceId ?? "", spanId: s.spanId ?? "", parentSpanId: s.parentSpanId ?? "", name: s.name ?? "", kind: s.kind ?? 0, attributes: attrs(s.attributes), resource });
      }
    }
  }
  return out;
}

function attrs(kvs: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

function anyValue(v: OtlpAnyValue | undefined): unknown {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue !== undefined) return attrs(v.kvlistValue.values);
  return undefined;
}

const KINDS = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"];

function formatTree(spans: readonly ReceivedSpan[]): string {
  const ids = new Set(spans.map((s) => s.spanId));
  const lines: string[] = [];
  const walk = (s: ReceivedSpan, depth: number): void => {
    if (depth > 32) return;
    lines.push(`${"  ".repeat(depth)}${s.name} [${KINDS[s.kind] ?? s.kind}] ${s.spanId} (node ${String(s.resource["service.instance.id"] ?? s.resource["dcnet.node.id"] ?? "?")})`);
    for (const c of spans.filter((x) => x.parentSpanId === s.spanId)) walk(c, depth + 1);
  };
  for (const root of spans.filter((s) => s.parentSpanId === "" || !ids.has(s.parentSpanId))) {
    lines.push(`trace ${root.traceId}`);
    walk(root, 1);
  }
  return lines.join("\n") || "(no spans)";
}
