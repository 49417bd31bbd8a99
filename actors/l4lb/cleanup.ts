// `dcnet node --l4lb-cleanup`: removes this host's L4LB tables (both families) and exits, without
// starting a node: what an operator runs after turning the L4LB off, or before uninstalling. The
// rules otherwise stay on purpose when the node stops (connections keep flowing through restarts).
import type { Config } from "../../config/index.js";
import { L4LB_TABLE } from "./model.js";
import { renderCleanup } from "./render/nft.js";
import { nftApply } from "./kernel/nft.js";

export async function removeL4lbTables(cfg: Config["l4lb"]): Promise<void> {
  await nftApply(renderCleanup({ table: L4LB_TABLE, selection: cfg.selection, maxBackends: cfg.maxBackends }), { command: [cfg.nft], backend: cfg.nftBackend });
}
