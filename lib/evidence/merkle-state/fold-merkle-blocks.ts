import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database } from '../../db/database';
import { foldBlocks, frontierOf, leavesRoot } from '../../proofs/aligned-subtrees';
import { eventHashLeaf } from '../../proofs/merkle';
import { readEventHashes } from './event-hashes';
import type { PageSlots } from './event-hashes';
import { MERKLE_BASE_LEVEL, MERKLE_BLOCK, foldedLeavesOf, readMerkleNodes, storeMerkleNodes } from './merkle-nodes';

/** Blocks folded per transaction: 4,096 event hashes read and about 8,000 hashes computed. */
const BLOCKS_PER_STEP = 16;

/** Folds in progress per database and chain, so one process folds a chain once at a time. */
const folding = new WeakMap<Database, Map<string, Promise<number>>>();

/**
 * Brings the chain's stored Merkle nodes up to the last complete block of its first `upTo`
 * events and returns the leaves folded (at least that many; more when another writer was
 * further). Safe to run anywhere at any time: nodes are a function of immutable events, each
 * step stores its blocks in one transaction under the chain's lock, and a step another writer
 * already stored is skipped. A process that stops part way leaves whole steps behind.
 */
export async function foldMerkleBlocks(options: {
  db: Database;
  chainId: string;
  upTo: number;
  slots?: PageSlots;
  signal?: AbortSignal;
}): Promise<number> {
  const { db, chainId } = options;
  let running = folding.get(db);
  if (!running) {
    running = new Map();
    folding.set(db, running);
  }
  for (let other = running.get(chainId); other; other = running.get(chainId)) await other.catch(() => undefined);
  const fold = foldSteps(options);
  running.set(chainId, fold);
  try {
    return await fold;
  } finally {
    if (running.get(chainId) === fold) running.delete(chainId);
  }
}

async function foldSteps({
  db,
  chainId,
  upTo,
  slots,
  signal,
}: {
  db: Database;
  chainId: string;
  upTo: number;
  slots?: PageSlots;
  signal?: AbortSignal;
}): Promise<number> {
  const target = Math.floor(upTo / MERKLE_BLOCK) * MERKLE_BLOCK;
  let folded = await foldedLeavesOf(db, chainId);
  while (folded < target) {
    const to = Math.min(target, folded + BLOCKS_PER_STEP * MERKLE_BLOCK);
    const hashes = await readEventHashes({ db, chainId, from: folded, to, slots, signal });
    const edge = frontierOf(folded).map(({ start, level }) => ({ level, index: start / 2 ** level }));
    const edgeHashes = await readMerkleNodes({ db, chainId, keys: edge });
    // One block (about 500 hashes, a millisecond) per turn of the event loop, so that a fold
    // that catches up delays the process's requests by a block at most, not by a whole step.
    const blockRoots = [];
    for (let at = 0; at < hashes.length; at += MERKLE_BLOCK) {
      await nextTurn();
      blockRoots.push(leavesRoot(hashes.slice(at, at + MERKLE_BLOCK).map(eventHashLeaf)));
    }
    const nodes = foldBlocks({
      frontier: edge.map((key, at) => ({ ...key, hash: edgeHashes[at]! })),
      base: MERKLE_BASE_LEVEL,
      firstBlock: folded / MERKLE_BLOCK,
      blockRoots,
    });
    folded = await storeMerkleNodes({ db, chainId, from: folded, to, nodes });
  }
  return folded;
}
