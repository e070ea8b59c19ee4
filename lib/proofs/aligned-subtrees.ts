/**
 * The arithmetic of a Merkle tree kept as stored subtree roots (lib/evidence/merkle-state/).
 *
 * An aligned subtree (level L, index i) is the perfect subtree over leaves
 * `[i * 2^L, (i + 1) * 2^L)`; its root never changes once those leaves exist. RFC 9162 splits
 * a range `[lo, hi)` at the largest power of two below its size, so `MTH(D[lo:hi])` is the
 * right fold of the perfect subtrees given by the binary digits of `hi - lo`, largest first.
 * For the ranges of a tree, a proof or a root (all come from splitting `[0, n)`), `lo` is a
 * multiple of the first subtree's size, so every one of those subtrees is aligned: each is
 * either one stored node or lies within a single block of `2^base` leaves.
 */
import { MerkleAccumulator, nodeHash } from './merkle';
import type { Hash } from './merkle';

/** The perfect subtree of `2^level` leaves starting at leaf `start`. */
export interface PerfectSubtree {
  start: number;
  level: number;
}

/** A stored subtree root: (level, index) and its hash. */
export interface AlignedNode {
  level: number;
  index: number;
  hash: Hash;
}

export const pow2 = (level: number): number => 2 ** level;

/** The perfect subtrees whose roots, folded right to left, give `MTH(D[lo:hi])`, left to right. */
export function perfectSubtrees(lo: number, hi: number): PerfectSubtree[] {
  const out: PerfectSubtree[] = [];
  let start = lo;
  let level = 0;
  while (pow2(level + 1) <= hi - lo) level += 1;
  for (; start < hi; level -= 1) {
    if (start + pow2(level) <= hi) {
      out.push({ start, level });
      start += pow2(level);
    }
  }
  return out;
}

/** The root over consecutive subtree roots, folded right to left (RFC 9162's split). */
export function foldRoots(roots: readonly Hash[]): Hash {
  if (roots.length === 0) throw new RangeError('no subtree roots to fold');
  let hash = roots[roots.length - 1]!;
  for (let index = roots.length - 2; index >= 0; index -= 1) hash = nodeHash(roots[index]!, hash);
  return hash;
}

/** Is `subtree` aligned (its start a multiple of its size)? */
export function isAligned({ start, level }: PerfectSubtree): boolean {
  return start % pow2(level) === 0;
}

/** The root of consecutive leaves forming one perfect subtree (or any range: RFC 9162's MTH). */
export function leavesRoot(leaves: Iterable<Uint8Array>): Hash {
  const tree = new MerkleAccumulator();
  for (const leaf of leaves) tree.push(leaf);
  return tree.root();
}

/**
 * The right edge of a tree of `size` leaves: its perfect subtrees, all aligned, largest first.
 * With `size` a multiple of `2^base`, each is a stored node of level >= base.
 */
export function frontierOf(size: number): PerfectSubtree[] {
  return perfectSubtrees(0, size);
}

/**
 * Adds the roots of consecutive blocks (aligned subtrees of level `base`, from block index
 * `firstBlock`) to a tree whose right edge is `frontier` (the nodes of `frontierOf(firstBlock
 * * 2^base)`), and returns every node that becomes complete: the blocks themselves and the
 * larger aligned subtrees they finish, in the order they complete.
 */
export function foldBlocks({
  frontier,
  base,
  firstBlock,
  blockRoots,
}: {
  frontier: readonly AlignedNode[];
  base: number;
  firstBlock: number;
  blockRoots: readonly Hash[];
}): AlignedNode[] {
  const stack = [...frontier];
  const completed: AlignedNode[] = [];
  blockRoots.forEach((hash, offset) => {
    let node: AlignedNode = { level: base, index: firstBlock + offset, hash };
    completed.push(node);
    while (stack.length > 0 && stack[stack.length - 1]!.level === node.level) {
      const left = stack.pop()!;
      node = { level: node.level + 1, index: Math.floor(node.index / 2), hash: nodeHash(left.hash, node.hash) };
      completed.push(node);
    }
    stack.push(node);
  });
  return completed;
}
