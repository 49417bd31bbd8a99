// Which upstreams a query is sent to (pure). dcos-net's `take_upstreams`
// (dcos_dns_handler.erl): with fewer than 3 upstreams ask all of them in parallel; otherwise group
// the upstreams by their failure count and ask 2 at random from the group with the fewest
// failures, or, when that group has a single member, that member plus 1 random upstream of the
// next group. Asking two is what makes a single slow or dead upstream cost nothing: the other
// one answers. On top of that, CoreDNS-style active health: upstreams currently marked unhealthy
// are left out. If every upstream is unhealthy they are all treated as healthy (CoreDNS
// "random" fallback rather than `failfast_all_unhealthy_upstreams`): a stale health mark must
// never turn into a total outage, and the probes will sort the real state out.

/** A number in [0, 1), like Math.random; injectable so tests can pin the choice. */
export type Random = () => number;

export interface Candidate {
  readonly key: string;
  /** Recent failures (see Forwarder for the decay); lower is better. */
  readonly failures: number;
  readonly healthy: boolean;
}

function pick<T>(items: readonly T[], random: Random): T {
  const i = Math.min(items.length - 1, Math.floor(random() * items.length));
  return items[i] as T;
}

function pickTwo<T>(items: readonly T[], random: Random): [T, T] {
  const n = items.length;
  const i = Math.min(n - 1, Math.floor(random() * n));
  let j = Math.min(n - 2, Math.floor(random() * (n - 1)));
  if (j >= i) j += 1;
  return [items[i] as T, items[j] as T];
}

/** Groups by failure count, lowest first; input order is kept inside a group. */
export function bucketByFailures<T extends Candidate>(candidates: readonly T[]): T[][] {
  const byCount = new Map<number, T[]>();
  for (const c of candidates) {
    const bucket = byCount.get(c.failures);
    if (bucket === undefined) byCount.set(c.failures, [c]);
    else bucket.push(c);
  }
  return [...byCount.entries()].sort((a, b) => a[0] - b[0]).map(([, bucket]) => bucket);
}

/** The upstreams to ask, in parallel, for one query. Empty only when `candidates` is empty. */
export function takeUpstreams<T extends Candidate>(candidates: readonly T[], random: Random = Math.random): T[] {
  const healthy = candidates.filter((c) => c.healthy);
  const pool = healthy.length > 0 ? healthy : candidates;
  if (pool.length < 3) return [...pool];
  const [first, next] = bucketByFailures(pool);
  if (first === undefined) return [];
  if (first.length >= 2) return pickTwo(first, random);
  const only = first[0] as T;
  // pool.length >= 3 and the first bucket has one member, so a next bucket exists.
  return next === undefined ? [only] : [only, pick(next, random)];
}
