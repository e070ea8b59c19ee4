import {
  MerkleAccumulator,
  consistencyProof,
  eventHashLeaf,
  fromHex,
  inclusionProof,
  leafHash,
  merkleRoot,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from '../../lib/proofs/merkle';
import type { Hash } from '../../lib/proofs/merkle';

// The reference tree of RFC 6962 implementations (certificate-transparency C++/Go `merkle`
// tests, carried on by transparency-dev/merkle): eight leaves, roots of sizes 0..8, and
// proofs given with 1-based leaf numbers.
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((hex) =>
  Buffer.from(hex, 'hex'),
);
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION: Array<[leaf: number, size: number, proof: string[]]> = [
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [3, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    2,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
const CT_CONSISTENCY: Array<[first: number, second: number, proof: string[]]> = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];

const flipped = (hash: Hash, byte = 0): Hash => {
  const copy = Uint8Array.from(hash);
  copy[byte] = copy[byte]! ^ 0x01;
  return copy;
};

describe('RFC 6962/9162 reference vectors', () => {
  it('gives the reference root for every size 0..8', () => {
    for (let size = 0; size <= 8; size += 1) expect(toHex(merkleRoot(CT_LEAVES.slice(0, size)))).toBe(CT_ROOTS[size]);
  });

  it.each(CT_INCLUSION)('inclusion proof of leaf %i in a tree of %i', (leaf, size, expected) => {
    const leaves = CT_LEAVES.slice(0, size);
    const proof = inclusionProof(leaf - 1, leaves);
    expect(proof.map(toHex)).toEqual(expected);
    const root = fromHex(CT_ROOTS[size]!);
    expect(verifyInclusion({ index: leaf - 1, treeSize: size, leafHash: leafHash(leaves[leaf - 1]!), proof, root })).toBe(true);
  });

  it.each(CT_CONSISTENCY)('consistency proof from %i to %i', (first, second, expected) => {
    const proof = consistencyProof(first, CT_LEAVES.slice(0, second));
    expect(proof.map(toHex)).toEqual(expected);
    const args = { firstSize: first, secondSize: second, firstRoot: fromHex(CT_ROOTS[first]!), secondRoot: fromHex(CT_ROOTS[second]!) };
    expect(verifyConsistency({ ...args, proof })).toBe(true);
  });
});

// A proof only fixes the shape of the path, so the proof for (index, n) also fits the root
// of size n under another size with the same shape (e.g. 3 and 4 for leaf 0): the (size,
// root) pair is what a signed checkpoint binds. A wrong size is therefore tested with the
// real root of that size, as a verifier holding a checkpoint would see it.
describe('every tree size 1..64', () => {
  const all = Array.from({ length: 65 }, (_, i) => Buffer.from([i, (i * 37) & 0xff, 0xa5]));
  const roots = [merkleRoot([]), ...all.map((_, i) => merkleRoot(all.slice(0, i + 1)))];

  it('the streaming accumulator agrees with merkleRoot', () => {
    const accumulator = new MerkleAccumulator();
    expect(accumulator.root()).toEqual(roots[0]);
    all.slice(0, 64).forEach((leaf, i) => {
      accumulator.push(leaf);
      expect(accumulator.root()).toEqual(roots[i + 1]);
    });
  });

  it('checklist 56: every inclusion proof verifies, and any change to it is rejected', () => {
    for (let size = 1; size <= 64; size += 1) {
      const leaves = all.slice(0, size);
      const root = roots[size]!;
      for (let index = 0; index < size; index += 1) {
        const hash = leafHash(leaves[index]!);
        const proof = inclusionProof(index, leaves);
        const ok = (changes: Partial<Parameters<typeof verifyInclusion>[0]>) =>
          verifyInclusion({ index, treeSize: size, leafHash: hash, proof, root, ...changes });
        expect(ok({})).toBe(true);
        expect(ok({ root: flipped(root, index % 32) })).toBe(false);
        expect(ok({ leafHash: flipped(hash) })).toBe(false);
        expect(ok({ treeSize: size + 1, root: roots[size + 1]! })).toBe(false);
        if (size > 1) expect(ok({ treeSize: size - 1, root: roots[size - 1]! })).toBe(false);
        expect(ok({ index: index + 1 })).toBe(false);
        if (index > 0) expect(ok({ index: index - 1 })).toBe(false);
        expect(ok({ proof: [...proof, proof[0] ?? root] })).toBe(false);
        if (proof.length > 0) expect(ok({ proof: proof.slice(0, -1) })).toBe(false);
        proof.forEach((_, p) => {
          const changed = proof.map((node, q) => (q === p ? flipped(node, 31) : node));
          expect(ok({ proof: changed })).toBe(false);
        });
      }
    }
  });

  it('checklist 56: every consistency proof verifies, and any change to it is rejected', () => {
    for (let size = 1; size <= 64; size += 1) {
      const leaves = all.slice(0, size);
      for (let m = 1; m <= size; m += 1) {
        const proof = consistencyProof(m, leaves);
        const base = { firstSize: m, secondSize: size, firstRoot: roots[m]!, secondRoot: roots[size]!, proof };
        const ok = (changes: Partial<typeof base>) => verifyConsistency({ ...base, ...changes });
        expect(ok({})).toBe(true);
        expect(ok({ firstRoot: flipped(roots[m]!) })).toBe(false);
        expect(ok({ secondRoot: flipped(roots[size]!) })).toBe(false);
        expect(ok({ secondSize: size + 1, secondRoot: roots[size + 1]! })).toBe(false);
        if (m < size) expect(ok({ firstSize: m + 1, firstRoot: roots[m + 1]! })).toBe(false);
        if (m > 1) expect(ok({ firstSize: m - 1, firstRoot: roots[m - 1]! })).toBe(false);
        if (size > m) expect(ok({ secondSize: size - 1, secondRoot: roots[size - 1]! })).toBe(false);
        expect(ok({ proof: [...proof, roots[m]!] })).toBe(false);
        if (proof.length > 0) expect(ok({ proof: proof.slice(1) })).toBe(false);
        proof.forEach((_, p) => {
          expect(ok({ proof: proof.map((node, q) => (q === p ? flipped(node, 7) : node)) })).toBe(false);
        });
      }
    }
  });

  it('checklist 56: refuses sizes and indexes outside the tree', () => {
    const leaves = all.slice(0, 5);
    expect(() => inclusionProof(5, leaves)).toThrow(RangeError);
    expect(() => inclusionProof(-1, leaves)).toThrow(RangeError);
    expect(() => consistencyProof(0, leaves)).toThrow(RangeError);
    expect(() => consistencyProof(6, leaves)).toThrow(RangeError);
    const root = roots[5]!;
    expect(verifyInclusion({ index: -1, treeSize: 5, leafHash: leafHash(leaves[0]!), proof: [], root })).toBe(false);
    expect(verifyInclusion({ index: 0, treeSize: 0, leafHash: leafHash(leaves[0]!), proof: [], root })).toBe(false);
    expect(verifyInclusion({ index: 0, treeSize: 1, leafHash: Uint8Array.of(1, 2), proof: [], root })).toBe(false);
    expect(verifyConsistency({ firstSize: 0, secondSize: 5, firstRoot: roots[0]!, secondRoot: root, proof: [] })).toBe(false);
    expect(verifyConsistency({ firstSize: 6, secondSize: 5, firstRoot: roots[6]!, secondRoot: root, proof: [] })).toBe(false);
    expect(verifyConsistency({ firstSize: 3, secondSize: 5, firstRoot: roots[3]!, secondRoot: root, proof: [] })).toBe(false);
  });
});

describe('event hash leaves', () => {
  it('are the 32 digest bytes of sha256:<hex>, and nothing else parses', () => {
    const hex = 'ab'.repeat(32);
    expect(toHex(eventHashLeaf(`sha256:${hex}`))).toBe(hex);
    for (const bad of [hex, `sha256:${hex.toUpperCase()}`, `sha256:${hex}0`, `sha512:${hex}`, `sha256:${hex} `]) {
      expect(() => eventHashLeaf(bad)).toThrow(TypeError);
    }
  });
});
