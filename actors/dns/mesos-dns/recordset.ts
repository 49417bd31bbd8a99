// A set of (name, type, value) records: Mesos-DNS stores each pair once, so do we.
import type { ParsedIp } from "./ip.js";

export type RecordType = "A" | "AAAA" | "SRV";

export interface DnsRecord {
  name: string;
  type: RecordType;
  value: string;
}

export class RecordSet {
  private readonly seen = new Map<string, DnsRecord>();

  /** Insert; returns false when the record was already present (upstream insertRR). */
  add(name: string, type: RecordType, value: string): boolean {
    const key = `${type}\t${name}\t${value}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, { name, type, value });
    return true;
  }

  addIp(name: string, ip: ParsedIp): boolean {
    return this.add(name, ip.family === 4 ? "A" : "AAAA", ip.text);
  }

  /** Sorted by type, name, value so output is deterministic whatever the input order. */
  toArray(): DnsRecord[] {
    return [...this.seen.keys()].sort().map((k) => this.seen.get(k) as DnsRecord);
  }
}
