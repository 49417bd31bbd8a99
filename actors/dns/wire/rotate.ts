// Answer-order load balancing (dcos-dns `loadbalance`): each RRset of the answer section is
// rotated by the message id (round_robin) or shuffled (random); CNAMEs keep their place in front.
import type { Answer } from "dns-packet";

export type Rotation = "round_robin" | "random" | "off";

// lcm of RRset sizes can explode (ANY over many sets); past this there is no point counting.
const PERIOD_CAP = 1 << 20;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** [start, end) of each run of records with the same owner and type, CNAMEs and singletons left out. */
function rrsets(answers: readonly Answer[]): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  for (let i = 0; i < answers.length; ) {
    const first = answers[i];
    let j = i + 1;
    while (j < answers.length && answers[j]?.type === first?.type && answers[j]?.name === first?.name) j++;
    if (j - i > 1 && first?.type !== "CNAME") out.push([i, j]);
    i = j;
  }
  return out;
}

interface Rotated {
  readonly answers: Answer[];
  /** How many distinct orders round_robin cycles through (lcm of RRset sizes, capped); 1 = fixed. */
  readonly period: number;
}

/** Reorders each RRset by `mode`; `key` is the message id, `random` returns [0, 1). */
export function rotate(answers: readonly Answer[], mode: Rotation, key: number, random: () => number): Rotated {
  const sets = rrsets(answers);
  if (mode === "off" || sets.length === 0) return { answers: [...answers], period: 1 };
  const out = [...answers];
  let period = 1;
  for (const [start, end] of sets) {
    const n = end - start;
    period = Math.min(PERIOD_CAP, (period / gcd(period, n)) * n);
    const set = out.slice(start, end);
    if (mode === "round_robin") {
      const k = key % n;
      out.splice(start, n, ...set.slice(k), ...set.slice(0, k));
    } else {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [set[i], set[j]] = [set[j] as Answer, set[i] as Answer];
      }
      out.splice(start, n, ...set);
    }
  }
  return { answers: out, period };
}
