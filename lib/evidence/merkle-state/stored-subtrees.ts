import type { Database } from '../../db/database';
import type { SubtreeSource } from '../../proofs/subtree-proofs';
import { readEventHashes } from './event-hashes';
import type { PageSlots } from './event-hashes';
import { foldMerkleBlocks } from './fold-merkle-blocks';
import { MERKLE_BASE_LEVEL, readMerkleNodes } from './merkle-nodes';

/**
 * The chain's tree as stored nodes plus its events, for roots and proofs of the first `size`
 * events (lib/proofs/subtree-proofs.ts). The stored state is first brought up to `size` when
 * it is behind (the folding after commit lags, a process stopped part way, the chain predates
 * the stored state): that reads only the events not yet folded, once, and stores them for
 * every later read.
 */
export async function storedSubtrees({
  db,
  chainId,
  size,
  slots,
  signal,
}: {
  db: Database;
  chainId: string;
  size: number;
  /** Page slots for the event reads (the audit plane's chain-read slots). */
  slots?: PageSlots;
  signal?: AbortSignal;
}): Promise<SubtreeSource> {
  const folded = await foldMerkleBlocks({ db, chainId, upTo: size, slots, signal });
  return {
    base: MERKLE_BASE_LEVEL,
    folded,
    nodes: (keys) => readMerkleNodes({ db, chainId, keys }),
    eventHashes: (from, to) => readEventHashes({ db, chainId, from, to, slots, signal }),
  };
}
