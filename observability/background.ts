// Which work is background, for the sampler and for the code that starts spans. Light: the OTel API
// only, so the transport and the supervisors can mark spans without loading the SDK (observability/README.md § Sampling).
import { createContextKey, isSpanContextValid, trace, type Context, type Link } from "@opentelemetry/api";

/**
 * Span attribute of work that runs whether or not anything changed (heartbeats, ticks, digests,
 * anti-entropy, sweeps, retries) or that only carries other work (a delta batch, whose changes each
 * have a span of their own in their own trace). A root span with it is sampled at the background
 * ratio (default 0: not traced); a child follows its parent's decision like any span.
 */
export const BACKGROUND_ATTR = "dcnet.background";

export const BACKGROUND_ATTRS: Readonly<Record<typeof BACKGROUND_ATTR, true>> = Object.freeze({ [BACKGROUND_ATTR]: true });

// Set in the context of a background span whose trace background work began: a change made from
// there (a sweep that expires a task, a tick that sees a member die) starts a trace of its own.
const BACKGROUND_KEY = createContextKey("dcnet.background");

/** True when `ctx` is inside background work that began its trace (backgroundParent set the mark). */
export function inBackground(ctx: Context): boolean {
  return ctx.getValue(BACKGROUND_KEY) === true;
}

/**
 * The parent context of a background span: `parent` marked as background, unless `parent` is inside
 * a change's trace (it has a span and is not background), in which case the background work is part
 * of that change and stays unmarked.
 */
export function backgroundParent(parent: Context): Context {
  if (inBackground(parent) || trace.getSpanContext(parent) === undefined) return parent.setValue(BACKGROUND_KEY, true);
  return parent;
}

/** `ctx` without the background mark: for a parent that came from elsewhere (a carrier, a header). */
export function clearBackground(ctx: Context): Context {
  return inBackground(ctx) ? ctx.deleteValue(BACKGROUND_KEY) : ctx;
}

/**
 * The parent of a change (non-background work) that starts in `parent`. Inside background work, a
 * change starts a trace of its own: a root, sampled at the change ratio, linked to the background
 * span that found it when that one is recorded. Elsewhere `parent` as it is.
 */
export function changeParent(parent: Context): { readonly parent: Context; readonly links: readonly Link[] } {
  if (!inBackground(parent)) return { parent, links: [] };
  const found = trace.getSpanContext(parent);
  const root = trace.deleteSpan(parent).deleteValue(BACKGROUND_KEY);
  // A link to an unsampled span would point at nothing in the backend.
  const links = found !== undefined && isSpanContextValid(found) && (found.traceFlags & 1) === 1 ? [{ context: found }] : [];
  return { parent: root, links };
}
