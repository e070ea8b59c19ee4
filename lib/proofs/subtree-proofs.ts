/**
 * RFC 9162 roots, inclusion and consistency proofs from stored subtree roots plus a bounded
 * number of leaves, exactly equal to `merkleRoot` / `inclusionProof` / `consistencyProof` of
 * merkle.ts (property-tested) and to the documents of streaming-proofs.ts.
 *
 * Every hash a proof needs is `MTH(D[lo:hi])` of one of its ranges (streaming-proofs.ts), the
 * right fold of perfect subtrees (aligned-subtrees.ts). A perfect subtree of level >= `base`
 * that ends within the folded leaves is one stored node; any other is computed from its
 * leaves. For the ranges of a tree of `n` leaves the second kind lies within the block of
 * `2^base` leaves that holds the range's last leaf, so a proof reads O(log n) nodes and the
 * leaves of at most two blocks (the block of the proven leaf or of the first size, and the
 * last block of the tree), whatever `n`.
 */
import { eventHashLeaf, merkleRoot, toHex } from './merkle';
import type { Hash } from './merkle';
import { foldRoots, isAligned, leavesRoot, perfectSubtrees, pow2 } from './aligned-subtrees';
import type { PerfectSubtree } from './aligned-subtrees';
import { consistencyRanges, inclusionRanges } from './streaming-proofs';
import type { LeafRange } from './streaming-proofs';
import { CONSISTENCY_PROOF_TYPE, INCLUSION_PROOF_TYPE, PROOF_HASH_METHOD } from './proof-document';
import type { ConsistencyProofDocument, InclusionProofDocument } from './proof-document';

/** (level, index) of an aligned subtree. */
export interface NodeKey {
  level: number;
  index: number;
}

/** Where the stored part of a chain's tree and its leaves are read. */
export interface SubtreeSource {
  /** Stored levels start here: every aligned subtree of level >= base ending at or before `folded` is stored. */
  readonly base: number;
  /** Leaves folded into stored nodes (a multiple of `2^base`). */
  readonly folded: number;
  /** The stored roots of `keys`, in the same order; throws when one is missing. */
  nodes(keys: readonly NodeKey[]): Promise<Hash[]>;
  /** The `sha256:<hex>` event hashes of leaves `[from, to)` (sequences `from + 1 .. to`). */
  eventHashes(from: number, to: number): Promise<string[]>;
}

/** Roots of ranges, and the event hashes of chosen leaves. */
export interface RangeRootsResult {
  roots: Hash[];
  /** Event hash of each leaf asked for, by leaf index. */
  eventHashes: ReadonlyMap<number, string>;
}

const stored = (source: SubtreeSource, piece: PerfectSubtree): boolean =>
  piece.level >= source.base && isAligned(piece) && piece.start + pow2(piece.level) <= source.folded;

/** Sorted, merged leaf intervals covering `intervals`. */
function merged(intervals: LeafRange[]): LeafRange[] {
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of [...intervals].sort((a, b) => a[0] - b[0])) {
    const last = out[out.length - 1];
    if (last && lo <= last[1]) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** `MTH(D[lo:hi])` of each range, reading each stored node and each needed leaf once. */
export async function rangeRoots(
  source: SubtreeSource,
  ranges: readonly LeafRange[],
  leaves: readonly number[] = [],
): Promise<RangeRootsResult> {
  const pieces = ranges.map(([lo, hi]) => perfectSubtrees(lo, hi));
  const keyOf = (piece: PerfectSubtree): string => `${piece.level}:${piece.start / pow2(piece.level)}`;
  const keys = new Map<string, NodeKey>();
  const intervals: LeafRange[] = leaves.map((leaf) => [leaf, leaf + 1]);
  for (const piece of pieces.flat()) {
    if (stored(source, piece)) keys.set(keyOf(piece), { level: piece.level, index: piece.start / pow2(piece.level) });
    else intervals.push([piece.start, piece.start + pow2(piece.level)]);
  }
  const nodeHashes = await source.nodes([...keys.values()]);
  const nodes = new Map([...keys.keys()].map((key, at) => [key, nodeHashes[at]!]));
  const reads = await Promise.all(merged(intervals).map(async ([lo, hi]) => ({ lo, hashes: await source.eventHashes(lo, hi) })));
  const eventHash = (leaf: number): string => {
    const read = reads.find(({ lo, hashes }) => leaf >= lo && leaf < lo + hashes.length);
    if (!read) throw new Error(`leaf ${leaf} was not read`);
    return read.hashes[leaf - read.lo]!;
  };
  const rootOf = (piece: PerfectSubtree): Hash => {
    const node = nodes.get(keyOf(piece));
    if (node && stored(source, piece)) return node;
    const size = pow2(piece.level);
    return leavesRoot(Array.from({ length: size }, (_, at) => eventHashLeaf(eventHash(piece.start + at))));
  };
  return {
    roots: pieces.map((parts) => foldRoots(parts.map(rootOf))),
    eventHashes: new Map(leaves.map((leaf) => [leaf, eventHash(leaf)])),
  };
}

const digest = (hash: Hash): string => `sha256:${toHex(hash)}`;

/** The root of the empty tree (SHA-256 of no bytes), as `sha256:<hex>`. */
export const EMPTY_TREE_ROOT = digest(merkleRoot([]));

/** The root of the first `size` leaves (`size >= 1`) and the event hash of leaf `size - 1`. */
export async function subtreeRoot(source: SubtreeSource, size: number): Promise<{ root: string; headHash: string }> {
  const { roots, eventHashes } = await rangeRoots(source, [[0, size]], [size - 1]);
  return { root: digest(roots[0]!), headHash: eventHashes.get(size - 1)! };
}

/** The inclusion proof document of leaf `index` in the tree of `size`, and the event hash of leaf `size - 1`. */
export async function subtreeInclusionDocument(
  source: SubtreeSource,
  { index, size, chainId }: { index: number; size: number; chainId?: string },
): Promise<{ document: InclusionProofDocument; headHash: string }> {
  const ranges = inclusionRanges(index, size);
  const { roots, eventHashes } = await rangeRoots(source, [...ranges, [0, size]], [index, size - 1]);
  const document: InclusionProofDocument = {
    proof_type: INCLUSION_PROOF_TYPE,
    hash_method: PROOF_HASH_METHOD,
    ...(chainId === undefined ? {} : { chain_id: chainId }),
    tree_size: size,
    leaf_index: index,
    event_hash: eventHashes.get(index)!,
    inclusion_path: roots.slice(0, ranges.length).map(digest),
    root: digest(roots[ranges.length]!),
  };
  return { document, headHash: eventHashes.get(size - 1)! };
}

/** The consistency proof document of the tree of `firstSize` against that of `size`, and both head hashes. */
export async function subtreeConsistencyDocument(
  source: SubtreeSource,
  { firstSize, size, chainId }: { firstSize: number; size: number; chainId?: string },
): Promise<{ document: ConsistencyProofDocument; firstHeadHash: string; headHash: string }> {
  const ranges = consistencyRanges(firstSize, size);
  const { roots, eventHashes } = await rangeRoots(source, [...ranges, [0, firstSize], [0, size]], [firstSize - 1, size - 1]);
  const document: ConsistencyProofDocument = {
    proof_type: CONSISTENCY_PROOF_TYPE,
    hash_method: PROOF_HASH_METHOD,
    ...(chainId === undefined ? {} : { chain_id: chainId }),
    first_size: firstSize,
    first_root: digest(roots[ranges.length]!),
    tree_size: size,
    root: digest(roots[ranges.length + 1]!),
    consistency_path: roots.slice(0, ranges.length).map(digest),
  };
  return { document, firstHeadHash: eventHashes.get(firstSize - 1)!, headHash: eventHashes.get(size - 1)! };
}
