// The zone view read a page at a time (the DNS zone actor's `records-page`): `/v1/records` pulls the
// next page only when the response has taken the last one, so what the API holds for it is one page
// and the stream's buffer, whatever the size of the zones. A zone rebuilt mid-stream: each page comes
// from the zones current when it is asked for and continues after the last row sent, so every record
// present for the whole stream is sent exactly once, one added or removed meanwhile at most once.
import { Readable } from "node:stream";
import type { RecordCursor, RecordsPage, RecordsPageRequest } from "../dns/index.js";
import { dcosRecord, type ZoneRowLike } from "./shapes.js";

/** How the API reads the zones; the node's zone actor, or a test's stand-in. */
export type RecordsPager = (req: RecordsPageRequest) => Promise<RecordsPage>;

/** Rows per page asked of the zone actor: a page is the most the API holds for one `/v1/records` response. */
export const RECORDS_PAGE = 512;
/** Records per write, so a page is a few writes, not one per record. */
const RECORDS_PER_CHUNK = 256;
/** dcos-net lists these types; asking only for them keeps SOA/NS/CNAME rows out of the pages. */
const DCOS_TYPES = ["A", "AAAA", "SRV"] as const;

async function* recordsText(pager: RecordsPager, limit: number): AsyncGenerator<string> {
  yield "[";
  let first = true;
  let after: RecordCursor | undefined;
  do {
    const page = await pager({ limit, types: DCOS_TYPES, ...(after ? { after } : {}) });
    let chunk: string[] = [];
    for (const row of page.rows) {
      const r = dcosRecord(row);
      if (!r) continue;
      chunk.push((first ? "" : ",\n") + JSON.stringify(r));
      first = false;
      if (chunk.length >= RECORDS_PER_CHUNK) {
        yield chunk.join("");
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk.join("");
    after = page.next;
  } while (after);
  yield "]";
}

/**
 * dcos-net's `/v1/records` body: a JSON array of `{name, host, rtype}`, every zone in origin order.
 * A readable stream that asks for the next page only when its reader has drained it below its
 * high-water mark (Readable.from stops pulling when a push returns false).
 */
export function recordsBody(pager: RecordsPager, limit = RECORDS_PAGE): Readable {
  return Readable.from(recordsText(pager, limit), { objectMode: false });
}

/**
 * Every row of one zone of the given types, gathered page by page (Mesos-DNS's `/v1/axfr` and
 * `/v1/enumerate` answer one JSON document built from the whole zone); empty if the zone is not served.
 */
export async function zoneRows(pager: RecordsPager, zone: string, types: RecordsPageRequest["types"], limit = RECORDS_PAGE): Promise<ZoneRowLike[]> {
  const rows: ZoneRowLike[] = [];
  let after: RecordCursor | undefined;
  do {
    const page = await pager({ zone, limit, ...(types ? { types } : {}), ...(after ? { after } : {}) });
    if (!page.zones.includes(zone)) return [];
    rows.push(...page.rows);
    after = page.next;
  } while (after);
  return rows;
}
