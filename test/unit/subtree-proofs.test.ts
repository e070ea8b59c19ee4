import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { foldBlocks, frontierOf, leavesRoot, pow2 } from '../../lib/proofs/aligned-subtrees';
import type { AlignedNode } from '../../lib/proofs/aligned-subtrees';
import { eventHashLeaf, merkleRoot } from '../../lib/proofs/merkle';
import { buildConsistencyDocument, buildInclusionDocument } from '../../lib/proofs/proof-document';
import { subtreeConsistencyDocument, subtreeInclusionDocument, subtreeRoot } from '../../lib/proofs/subtree-proofs';
import type { SubtreeSource } from '../../lib/proofs/subtree-proofs';

const hashesOf = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `sha256:${createHash('sha256').update(`event-${i}`).digest('hex')}`);

/**
 * Stored nodes of the first `blocks` blocks of `hashes`, folded in the given steps from the
 * frontier each time (as the database side does), in a map, with a source that counts reads.
 */
function memorySource(hashes: readonly string[], base: number, steps: readonly number[]) {
  const nodes = new Map<string, AlignedNode>();
  let folded = 0;
  for (const blocks of steps) {
    const frontier = frontierOf(folded).map(({ start, level }) => nodes.get(`${level}:${start / pow2(level)}`)!);
    const blockRoots = Array.from({ length: blocks }, (_, at) =>
      leavesRoot(hashes.slice(folded + at * pow2(base), folded + (at + 1) * pow2(base)).map(eventHashLeaf)),
    );
    for (const node of foldBlocks({ frontier, base, firstBlock: folded / pow2(base), blockRoots })) {
      nodes.set(`${node.level}:${node.index}`, node);
    }
    folded += blocks * pow2(base);
  }
  const reads = { nodes: 0, leaves: 0 };
  const source: SubtreeSource = {
    base,
    folded,
    nodes: async (keys) =>
      keys.map(({ level, index }) => {
        reads.nodes += 1;
        const node = nodes.get(`${level}:${index}`);
        if (!node) throw new Error(`node ${level}:${index} is not stored`);
        return node.hash;
      }),
    eventHashes: async (from, to) => {
      reads.leaves += to - from;
      return hashes.slice(from, to);
    },
  };
  return { source, nodes, reads };
}

/** A chain length, a base level, how the complete blocks were folded, and sizes to prove. */
const scenario = fc.record({ size: fc.integer({ min: 1, max: 1500 }), base: fc.constantFrom(0, 1, 2, 3, 5, 8) }).chain(({ size, base }) => {
  const complete = Math.floor(size / pow2(base));
  return fc.record({
    size: fc.constant(size),
    base: fc.constant(base),
    steps: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 12 }).map((steps) => {
      const out: number[] = [];
      let left = complete;
      for (const step of steps) {
        if (left === 0) break;
        out.push(Math.min(step, left));
        left -= Math.min(step, left);
      }
      return out;
    }),
    all: fc.boolean(),
    treeSize: fc.integer({ min: 1, max: size }),
    at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  });
});

describe('roots and proofs from stored aligned subtrees', () => {
  it('stores, for every complete aligned subtree of level >= base, the RFC 9162 root of its leaves', () => {
    const hashes = hashesOf(1100);
    const { nodes } = memorySource(hashes, 3, [1, 7, 2, 100, 27]);
    expect(nodes.size).toBe(137 + 68 + 34 + 17 + 8 + 4 + 2 + 1);
    for (const node of nodes.values()) {
      const size = pow2(node.level);
      expect(node.hash).toEqual(merkleRoot(hashes.slice(node.index * size, (node.index + 1) * size).map(eventHashLeaf)));
    }
  });

  it('equal a full recomputation for any chain length and any part of it folded (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ size, base, steps, all, treeSize, at }) => {
        const hashes = hashesOf(size);
        const complete = Math.floor(size / pow2(base));
        const { source } = memorySource(hashes, base, all ? [complete].filter(Boolean) : steps);
        const tree = hashes.slice(0, treeSize);
        const index = Math.floor(at * treeSize);
        const first = 1 + Math.floor(at * treeSize);
        const inclusion = await subtreeInclusionDocument(source, { index, size: treeSize, chainId: 'c' });
        expect(inclusion).toEqual({ document: buildInclusionDocument(tree, index, 'c'), headHash: tree[treeSize - 1] });
        const consistency = await subtreeConsistencyDocument(source, { firstSize: first, size: treeSize, chainId: 'c' });
        expect(consistency).toEqual({
          document: buildConsistencyDocument(tree, first, 'c'),
          firstHeadHash: tree[first - 1],
          headHash: tree[treeSize - 1],
        });
        expect(await subtreeRoot(source, treeSize)).toEqual({ root: inclusion.document.root, headHash: tree[treeSize - 1] });
      }),
      { numRuns: 150 },
    );
  });

  it('read O(log n) nodes and at most two blocks of leaves once everything is folded', async () => {
    const size = 100_003;
    const hashes = hashesOf(size);
    const base = 8;
    const { source, reads } = memorySource(hashes, base, [Math.floor(size / pow2(base))]);
    // 17 levels: a proof's ranges and roots take at most three nodes a level.
    const bounds = { nodes: 3 * 17 + 3, leaves: 2 * pow2(base) + 2 };
    const measured = async (read: () => Promise<unknown>) => {
      reads.nodes = 0;
      reads.leaves = 0;
      await read();
      return { ...reads };
    };
    for (const [index, first] of [
      [0, 1],
      [12_345, 77_777],
      [size - 1, size - 1],
      [99_999, 256],
      [65_536, 65_536],
    ] as const) {
      for (const read of [
        () => subtreeInclusionDocument(source, { index, size }),
        () => subtreeRoot(source, size),
        () => subtreeConsistencyDocument(source, { firstSize: first, size }),
      ]) {
        const { nodes, leaves } = await measured(read);
        expect(nodes).toBeLessThanOrEqual(bounds.nodes);
        expect(leaves).toBeLessThanOrEqual(bounds.leaves);
      }
    }
  });
});
