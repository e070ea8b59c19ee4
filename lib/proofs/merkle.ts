/**
 * RFC 9162 (Certificate Transparency v2, same tree as RFC 6962) Merkle tree hash over an
 * ordered list of leaves, with inclusion and consistency proofs and their verification
 * following RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step.
 *
 * Leaves are byte strings: `leafHash(d) = SHA-256(0x00 || d)`, `node = SHA-256(0x01 || l || r)`,
 * the empty tree's hash is SHA-256 of no bytes. For evidence chains the leaf of an event is
 * the raw 32-byte digest behind its `event_hash` (`eventHashLeaf('sha256:<hex>')`), not the
 * text `sha256:<hex>`: the tree commits to the digests, whatever prefix spells them.
 *
 * Roots and proof hashes are raw 32-byte `Uint8Array`s; `toHex`/`fromHex` convert.
 */
import { createHash } from 'node:crypto';

export type Hash = Uint8Array;

const HASH_BYTES = 32;
const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** SHA-256(0x00 || leaf). */
export function leafHash(leaf: Uint8Array): Hash {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The leaf of an event: the 32 bytes of `sha256:<64 lowercase hex>`; throws on any other form. */
export function eventHashLeaf(eventHash: string): Uint8Array {
  const match = /^sha256:([0-9a-f]{64})$/.exec(eventHash);
  if (!match) throw new TypeError(`"${eventHash.slice(0, 80)}" is not sha256:<64 lowercase hex>`);
  return Buffer.from(match[1]!, 'hex');
}

export function toHex(hash: Hash): string {
  return Buffer.from(hash).toString('hex');
}

/** 64 lowercase hex digits (optionally prefixed `sha256:`) to 32 bytes; throws otherwise. */
export function fromHex(text: string): Hash {
  const match = /^(?:sha256:)?([0-9a-f]{64})$/.exec(text);
  if (!match) throw new TypeError(`"${text.slice(0, 80)}" is not a 32-byte lowercase hex hash`);
  return Buffer.from(match[1]!, 'hex');
}

function equal(a: Hash, b: Hash): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

/** Largest power of two strictly smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over leaf hashes [lo, hi). */
function subtreeHash(hashes: readonly Hash[], lo: number, hi: number): Hash {
  if (hi - lo === 1) return hashes[lo]!;
  const k = splitPoint(hi - lo);
  return nodeHash(subtreeHash(hashes, lo, lo + k), subtreeHash(hashes, lo + k, hi));
}

/** MTH(D[n]) of the leaves (leaf data, hashed here). */
export function merkleRoot(leaves: readonly Uint8Array[]): Hash {
  if (leaves.length === 0) return createHash('sha256').digest();
  return subtreeHash(leaves.map(leafHash), 0, leaves.length);
}

function path(index: number, hashes: readonly Hash[], lo: number, hi: number): Hash[] {
  if (hi - lo === 1) return [];
  const k = splitPoint(hi - lo);
  return index < k
    ? [...path(index, hashes, lo, lo + k), subtreeHash(hashes, lo + k, hi)]
    : [...path(index - k, hashes, lo + k, hi), subtreeHash(hashes, lo, lo + k)];
}

/** PATH(index, D[n]) (RFC 9162 2.1.3.1): the audit path of leaf `index`, bottom up. */
export function inclusionProof(index: number, leaves: readonly Uint8Array[]): Hash[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) {
    throw new RangeError(`leaf index ${index} is outside a tree of ${leaves.length}`);
  }
  return path(index, leaves.map(leafHash), 0, leaves.length);
}

function subproof(m: number, hashes: readonly Hash[], lo: number, hi: number, complete: boolean): Hash[] {
  const n = hi - lo;
  if (m === n) return complete ? [] : [subtreeHash(hashes, lo, hi)];
  const k = splitPoint(n);
  return m <= k
    ? [...subproof(m, hashes, lo, lo + k, complete), subtreeHash(hashes, lo + k, hi)]
    : [...subproof(m - k, hashes, lo + k, hi, false), subtreeHash(hashes, lo, lo + k)];
}

/** PROOF(m, D[n]) (RFC 9162 2.1.4.1): the first `m` leaves against all of them, 1 <= m <= n. */
export function consistencyProof(m: number, leaves: readonly Uint8Array[]): Hash[] {
  if (!Number.isSafeInteger(m) || m < 1 || m > leaves.length) {
    throw new RangeError(`first tree size ${m} is outside 1..${leaves.length}`);
  }
  return subproof(m, leaves.map(leafHash), 0, leaves.length, true);
}

function wellFormed(hashes: readonly Hash[]): boolean {
  return hashes.every((hash) => hash instanceof Uint8Array && hash.length === HASH_BYTES);
}

/** Right-shifts a pair of numbers (above 2^31, so no `>>`). */
const half = (value: number): number => Math.floor(value / 2);
const lsb = (value: number): boolean => value % 2 === 1;

/** RFC 9162 2.1.3.2: is `leafHash` the leaf at `index` of the tree of `treeSize` with `root`? */
export function verifyInclusion({
  index,
  treeSize,
  leafHash: hash,
  proof,
  root,
}: {
  index: number;
  treeSize: number;
  leafHash: Hash;
  proof: readonly Hash[];
  root: Hash;
}): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0) return false;
  if (!wellFormed([hash, root, ...proof])) return false;
  // 1. leaf_index >= tree_size fails.
  if (index >= treeSize) return false;
  // 2-3.
  let fn = index;
  let sn = treeSize - 1;
  let r = hash;
  // 4.
  for (const p of proof) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!lsb(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 5.
  return sn === 0 && equal(r, root);
}

/**
 * RFC 9162 2.1.4.2: is the tree of `secondSize` with `secondRoot` an append-only extension
 * of the tree of `firstSize` with `firstRoot`? Sizes must satisfy 1 <= first <= second; equal
 * sizes are consistent only with an empty proof and equal roots (RFC 9162 2.1.4.1).
 */
export function verifyConsistency({
  firstSize,
  secondSize,
  firstRoot,
  secondRoot,
  proof,
}: {
  firstSize: number;
  secondSize: number;
  firstRoot: Hash;
  secondRoot: Hash;
  proof: readonly Hash[];
}): boolean {
  if (!Number.isSafeInteger(firstSize) || !Number.isSafeInteger(secondSize)) return false;
  if (firstSize < 1 || firstSize > secondSize) return false;
  if (!wellFormed([firstRoot, secondRoot, ...proof])) return false;
  if (firstSize === secondSize) return proof.length === 0 && equal(firstRoot, secondRoot);
  // 1. An empty path fails.
  if (proof.length === 0) return false;
  // 2. A power-of-two first tree is itself the first node.
  const nodes = isPowerOfTwo(firstSize) ? [firstRoot, ...proof] : [...proof];
  // 3.
  let fn = firstSize - 1;
  let sn = secondSize - 1;
  // 4.
  while (lsb(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5.
  let fr = nodes[0]!;
  let sr = nodes[0]!;
  // 6.
  for (const c of nodes.slice(1)) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!lsb(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 7.
  return equal(fr, firstRoot) && equal(sr, secondRoot) && sn === 0;
}

function isPowerOfTwo(value: number): boolean {
  let v = value;
  while (v > 1 && v % 2 === 0) v /= 2;
  return v === 1;
}

/**
 * The root of a growing list of leaves in O(log n) memory: a stack of the perfect
 * subtrees seen so far (sizes strictly decreasing), folded right to left on `root()`.
 * Gives exactly `merkleRoot` of the leaves pushed.
 */
export class MerkleAccumulator {
  private readonly stack: Array<{ hash: Hash; size: number }> = [];
  size = 0;

  push(leaf: Uint8Array): void {
    let node = { hash: leafHash(leaf), size: 1 };
    while (this.stack.length > 0 && this.stack[this.stack.length - 1]!.size === node.size) {
      const left = this.stack.pop()!;
      node = { hash: nodeHash(left.hash, node.hash), size: left.size * 2 };
    }
    this.stack.push(node);
    this.size += 1;
  }

  root(): Hash {
    if (this.stack.length === 0) return createHash('sha256').digest();
    let hash = this.stack[this.stack.length - 1]!.hash;
    for (let index = this.stack.length - 2; index >= 0; index -= 1) hash = nodeHash(this.stack[index]!.hash, hash);
    return hash;
  }
}
