import { createHash } from 'node:crypto';
import { buildConsistencyDocument, buildInclusionDocument, verifyProofDocument } from '../../lib/proofs/proof-document';
import {
  consistencyRanges,
  inclusionRanges,
  streamConsistencyDocument,
  streamInclusionDocument,
  streamMerkleRoot,
} from '../../lib/proofs/streaming-proofs';

const hashesOf = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `sha256:${createHash('sha256').update(`event-${i}`).digest('hex')}`);

async function* slowly(hashes: readonly string[]): AsyncGenerator<string> {
  for (const hash of hashes) yield hash;
}

describe('proofs computed in one streaming pass', () => {
  it('equal the in-memory RFC 9162 proofs for every index and size up to 40', async () => {
    for (let size = 1; size <= 40; size += 1) {
      const hashes = hashesOf(size);
      for (let index = 0; index < size; index += 1) {
        const streamed = await streamInclusionDocument(slowly(hashes), { index, size, chainId: 'c' });
        expect(streamed).toEqual(buildInclusionDocument(hashes, index, 'c'));
      }
      for (let first = 1; first <= size; first += 1) {
        const streamed = await streamConsistencyDocument(hashes, { firstSize: first, size, chainId: 'c' });
        expect(streamed).toEqual(buildConsistencyDocument(hashes, first, 'c'));
      }
      expect((await streamMerkleRoot(hashes)).root).toBe(buildInclusionDocument(hashes, 0).root);
    }
  });

  it('uses disjoint ranges, and a proof of a 2^20-leaf tree needs at most 20 of them', () => {
    for (const ranges of [inclusionRanges(123_456, 1 << 20), consistencyRanges(777_777, 1 << 20), consistencyRanges(5, 1_000_001)]) {
      expect(ranges.length).toBeLessThanOrEqual(21);
      const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < sorted.length; i += 1) expect(sorted[i]![0]).toBeGreaterThanOrEqual(sorted[i - 1]![1]);
    }
  });

  it('refuses sizes outside the tree and a stream of the wrong length', async () => {
    expect(() => inclusionRanges(5, 5)).toThrow(RangeError);
    expect(() => consistencyRanges(0, 5)).toThrow(RangeError);
    expect(() => consistencyRanges(6, 5)).toThrow(RangeError);
    await expect(streamInclusionDocument(hashesOf(4), { index: 1, size: 5 })).rejects.toThrow('expected 5');
    await expect(streamInclusionDocument(hashesOf(6), { index: 1, size: 5 })).rejects.toThrow('more than 5');
  });

  it('verifies with ecs verify-proof logic', async () => {
    const hashes = hashesOf(1000);
    const inclusion = await streamInclusionDocument(hashes, { index: 640, size: 1000 });
    const consistency = await streamConsistencyDocument(hashes, { firstSize: 333, size: 1000 });
    for (const document of [inclusion, consistency]) {
      expect((await verifyProofDocument(document))[0]).toMatchObject({ name: 'proof', ok: true });
    }
  });
});
