// The root sampler: a root span of background work (marked with BACKGROUND_ATTR where it starts) is
// sampled at the background ratio, any other root at the change ratio. It sits under ParentBased, so
// it only ever sees roots: a span with a parent — local, or remote through NATS headers or a delta's
// carrier — follows its parent's decision, and a change stays one trace across nodes.
import type { Attributes, Context, Link, SpanKind } from "@opentelemetry/api";
import type { Sampler, SamplingResult } from "@opentelemetry/sdk-trace-base";
import { BACKGROUND_ATTR } from "./background.js";

/** Delegates are passed in (TraceIdRatioBased from the SDK) so this module loads without it. */
export class IntentSampler implements Sampler {
  constructor(
    private readonly change: Sampler,
    private readonly background: Sampler,
  ) {}

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const delegate = attributes[BACKGROUND_ATTR] === true ? this.background : this.change;
    return delegate.shouldSample(ctx, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `IntentSampler{change=${this.change.toString()}, background=${this.background.toString()}}`;
  }
}
