// A named-VIP address range from config (`l4lb.namedV4`, `l4lb.namedV6`): two addresses of one
// family, min ≤ max, both inclusive (dcos-net min_named_ip/max_named_ip).
import type { Family } from "../model.js";
import { InvalidNamedRangeError } from "./errors.js";
import { formatIp, parseIp } from "../../../config/ip.js";

export interface NamedRange {
  readonly family: Family;
  readonly min: bigint;
  readonly max: bigint;
}

export interface RangeConfig {
  readonly min: string;
  readonly max: string;
}

/** Why `r` is not a usable range (of `family`, when given), or undefined when it is. For config checks. */
export function namedRangeProblem(r: RangeConfig, family?: Family): string | undefined {
  const min = parseIp(r.min);
  const max = parseIp(r.max);
  if (!min) return `min ${JSON.stringify(r.min)} is not an IP address`;
  if (!max) return `max ${JSON.stringify(r.max)} is not an IP address`;
  if (min.family !== max.family) return "min and max are of different families";
  if (family && min.family !== family) return `expected ${family === "ip" ? "IPv4" : "IPv6"} addresses`;
  if (min.value > max.value) return "min is above max";
  return undefined;
}

/** The range, or InvalidNamedRangeError saying what is wrong. */
export function parseNamedRange(r: RangeConfig, family?: Family): NamedRange {
  const problem = namedRangeProblem(r, family);
  if (problem !== undefined) throw new InvalidNamedRangeError(r, problem);
  const min = parseIp(r.min) as NonNullable<ReturnType<typeof parseIp>>;
  const max = parseIp(r.max) as NonNullable<ReturnType<typeof parseIp>>;
  return { family: min.family, min: min.value, max: max.value };
}

/** Number of addresses in the range (max − min + 1). */
export function rangeSize(r: NamedRange): bigint {
  return r.max - r.min + 1n;
}

export function contains(r: NamedRange, family: Family, value: bigint): boolean {
  return family === r.family && value >= r.min && value <= r.max;
}

export function describeRange(r: NamedRange): string {
  return `${formatIp(r.family, r.min)}–${formatIp(r.family, r.max)}`;
}
