// The containers dcnet-cni attached on this node, read from the plugin's lease folder (cli/cni/README.md:
// one file per leased address, named by it, holding the attachment as one JSON line with at least
// `containerId` and `ifname`). Read, not told: the plugin is one short process per container start and
// must stay fast, so it holds no NATS connection and no credentials; the lease files are the record it
// keeps anyway, written whole before they appear (link(2)), and a restarted node reads them again.
import { readdir, readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";

/** containerId → its addresses, IPv4 first, each family in text order. */
export type Attachments = ReadonlyMap<string, readonly string[]>;

export interface AttachmentScan {
  readonly attachments: Attachments;
  /** Lease files that are not a lease (half-written by a crashed tool, edited by hand): skipped. */
  readonly unreadable: number;
}

export async function readAttachments(dir: string): Promise<AttachmentScan> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    // No container attached yet: the plugin creates the folder on its first ADD.
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { attachments: new Map(), unreadable: 0 };
    throw e;
  }
  const byContainer = new Map<string, string[]>();
  let unreadable = 0;
  for (const address of names) {
    // Also skips last_reserved.*, the plugin's temporary files and anything not named by an address.
    if (isIP(address) === 0) continue;
    const text = await readFile(join(dir, address), "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : ""));
    if (text === undefined) continue; // released while the folder was read
    const containerId = leaseContainer(text);
    if (containerId === undefined) {
      unreadable += 1;
      continue;
    }
    const list = byContainer.get(containerId) ?? [];
    list.push(address);
    byContainer.set(containerId, list);
  }
  for (const list of byContainer.values()) list.sort(addressOrder);
  return { attachments: byContainer, unreadable };
}

function leaseContainer(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null) return undefined;
    const { containerId, ifname } = v as { containerId?: unknown; ifname?: unknown };
    return typeof containerId === "string" && containerId !== "" && typeof ifname === "string" ? containerId : undefined;
  } catch {
    return undefined;
  }
}

function addressOrder(a: string, b: string): number {
  return isIP(a) - isIP(b) || (a < b ? -1 : a > b ? 1 : 0);
}
