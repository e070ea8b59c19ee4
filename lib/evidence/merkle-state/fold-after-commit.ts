import type { Database } from '../../db/database';
import { foldMerkleBlocks } from './fold-merkle-blocks';
import { MERKLE_BLOCK } from './merkle-nodes';

/** What this process knows of a chain: its highest committed sequence and the leaves folded. */
interface ChainFolding {
  committed: number;
  folded: number;
  running: boolean;
}

const chainsByDatabase = new WeakMap<Database, Map<string, ChainFolding>>();

const lastBlockEnd = (sequence: number): number => Math.floor(sequence / MERKLE_BLOCK) * MERKLE_BLOCK;

/**
 * After commit, outside the appending transaction: once committed events complete a block of
 * a chain, folds it (and the subtrees it completes) into the chain's stored Merkle state, one
 * fold at a time per chain and process. Most commits complete no block and cost a comparison.
 * A fold that fails (the database went away, the process is stopping) is left for the next
 * block or the next reader, which catches up whatever is missing.
 */
export function foldCommitted(db: Database, events: ReadonlyArray<{ chain_id: string; sequence: number }>): void {
  let chains = chainsByDatabase.get(db);
  if (!chains) {
    chains = new Map();
    chainsByDatabase.set(db, chains);
  }
  const touched = new Set<string>();
  for (const { chain_id: chainId, sequence } of events) {
    let chain = chains.get(chainId);
    if (!chain) {
      chain = { committed: 0, folded: 0, running: false };
      chains.set(chainId, chain);
    }
    chain.committed = Math.max(chain.committed, sequence);
    touched.add(chainId);
  }
  for (const chainId of touched) {
    const chain = chains.get(chainId)!;
    if (!chain.running && lastBlockEnd(chain.committed) > chain.folded) void fold(db, chainId, chain);
  }
}

async function fold(db: Database, chainId: string, chain: ChainFolding): Promise<void> {
  chain.running = true;
  try {
    while (lastBlockEnd(chain.committed) > chain.folded) {
      chain.folded = await foldMerkleBlocks({ db, chainId, upTo: chain.committed });
    }
  } catch {
    // Readers fold what is missing themselves; the next completed block tries again.
  } finally {
    chain.running = false;
  }
}
