/**
 * RFC 9162 inclusion and consistency proofs computed in ONE ordered pass over a chain's
 * event hashes with O(log n) memory, for chains too long to hold (a million events).
 *
 * Every hash of an RFC 9162 path is the Merkle tree hash of a contiguous range of leaves
 * (PATH and SUBPROOF of sections 2.1.3.1 and 2.1.4.1 only ever emit `MTH(D[lo:hi])`), and
 * the ranges of one proof are disjoint. So the ranges are worked out first from the sizes
 * alone, then each range's root is accumulated while the leaves stream past. The result
 * is exactly that of `inclusionProof` / `consistencyProof` in merkle.ts (unit-tested).
 */
import { MerkleAccumulator, eventHashLeaf, toHex } from './merkle';
import type { Hash } from './merkle';
import { CONSISTENCY_PROOF_TYPE, INCLUSION_PROOF_TYPE, PROOF_HASH_METHOD } from './proof-document';
import type { ConsistencyProofDocument, InclusionProofDocument } from './proof-document';

/** Leaves `[lo, hi)` (0-based). */
export type LeafRange = readonly [number, number];

function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The ranges whose roots make PATH(index, D[size]), bottom up. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new RangeError(`leaf index ${index} is outside a tree of ${size}`);
  }
  const topDown: LeafRange[] = [];
  let [lo, hi] = [0, size];
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      topDown.push([lo + k, hi]);
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]);
      lo += k;
    }
  }
  return topDown.reverse();
}

/** The ranges whose roots make PROOF(first, D[size]), in proof order (1 <= first <= size). */
export function consistencyRanges(first: number, size: number): LeafRange[] {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(size) || first < 1 || first > size) {
    throw new RangeError(`first tree size ${first} is outside 1..${size}`);
  }
  const topDown: LeafRange[] = [];
  let [m, lo, hi, complete] = [first, 0, size, true];
  for (;;) {
    const n = hi - lo;
    if (m === n) {
      if (!complete) topDown.push([lo, hi]);
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      topDown.push([lo + k, hi]);
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]);
      m -= k;
      lo += k;
      complete = false;
    }
  }
  return topDown.reverse();
}

/**
 * Feeds leaves in order and keeps the roots of the given (disjoint) ranges and of the
 * whole tree at chosen sizes.
 */
class RangeRoots {
  private readonly accumulators: Array<{ range: LeafRange; tree: MerkleAccumulator }>;
  private readonly whole = new MerkleAccumulator();
  private readonly rootsAt = new Map<number, Hash>();
  private next = 0;

  constructor(
    ranges: readonly LeafRange[],
    private readonly sizes: readonly number[],
  ) {
    this.accumulators = ranges.map((range) => ({ range, tree: new MerkleAccumulator() }));
  }

  push(leaf: Uint8Array): void {
    const index = this.next;
    for (const { range, tree } of this.accumulators) if (index >= range[0] && index < range[1]) tree.push(leaf);
    this.whole.push(leaf);
    this.next += 1;
    if (this.sizes.includes(this.next)) this.rootsAt.set(this.next, this.whole.root());
  }

  get count(): number {
    return this.next;
  }

  rangeRoots(): Hash[] {
    return this.accumulators.map(({ range, tree }) => {
      if (tree.size !== range[1] - range[0]) throw new Error(`leaves ${range[0]}..${range[1]} were not all seen`);
      return tree.root();
    });
  }

  rootAt(size: number): Hash {
    const root = this.rootsAt.get(size);
    if (!root) throw new Error(`the tree never reached ${size} leaves`);
    return root;
  }
}

const digest = (hash: Hash): string => `sha256:${toHex(hash)}`;

/** Streams `eventHashes` (sequence order, exactly `size` of them) and feeds `roots`. */
async function consume(
  eventHashes: AsyncIterable<string> | Iterable<string>,
  size: number,
  roots: RangeRoots,
  onLeaf?: (index: number, eventHash: string) => void,
): Promise<void> {
  for await (const eventHash of eventHashes) {
    if (roots.count >= size) throw new Error(`more than ${size} event hashes`);
    onLeaf?.(roots.count, eventHash);
    roots.push(eventHashLeaf(eventHash));
  }
  if (roots.count !== size) throw new Error(`expected ${size} event hashes, got ${roots.count}`);
}

/** The inclusion proof document of the event at `index` in the tree of the first `size` hashes. */
export async function streamInclusionDocument(
  eventHashes: AsyncIterable<string> | Iterable<string>,
  { index, size, chainId }: { index: number; size: number; chainId?: string },
): Promise<InclusionProofDocument> {
  const roots = new RangeRoots(inclusionRanges(index, size), [size]);
  let leafHash: string | undefined;
  await consume(eventHashes, size, roots, (at, eventHash) => {
    if (at === index) leafHash = eventHash;
  });
  return {
    proof_type: INCLUSION_PROOF_TYPE,
    hash_method: PROOF_HASH_METHOD,
    ...(chainId === undefined ? {} : { chain_id: chainId }),
    tree_size: size,
    leaf_index: index,
    event_hash: leafHash!,
    inclusion_path: roots.rangeRoots().map(digest),
    root: digest(roots.rootAt(size)),
  };
}

/** The consistency proof document of the first `firstSize` hashes against the first `size`. */
export async function streamConsistencyDocument(
  eventHashes: AsyncIterable<string> | Iterable<string>,
  { firstSize, size, chainId }: { firstSize: number; size: number; chainId?: string },
): Promise<ConsistencyProofDocument> {
  const roots = new RangeRoots(consistencyRanges(firstSize, size), [firstSize, size]);
  await consume(eventHashes, size, roots);
  return {
    proof_type: CONSISTENCY_PROOF_TYPE,
    hash_method: PROOF_HASH_METHOD,
    ...(chainId === undefined ? {} : { chain_id: chainId }),
    first_size: firstSize,
    first_root: digest(roots.rootAt(firstSize)),
    tree_size: size,
    root: digest(roots.rootAt(size)),
    consistency_path: roots.rangeRoots().map(digest),
  };
}

/** The RFC 9162 root of the event hashes (O(log n) memory). */
export async function streamMerkleRoot(eventHashes: AsyncIterable<string> | Iterable<string>): Promise<{ root: string; size: number }> {
  const tree = new MerkleAccumulator();
  for await (const eventHash of eventHashes) tree.push(eventHashLeaf(eventHash));
  return { root: digest(tree.root()), size: tree.size };
}
