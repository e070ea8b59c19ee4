import { createHash } from 'node:crypto';
import { ArtifactIndex } from '../../lib/bundle/artifact-index';
import type { ArtifactOutcome } from '../../lib/bundle/artifact-index';
import type { BundleCheck } from '../../lib/bundle/findings';
import { Findings } from '../../lib/bundle/findings';
import type { SplitSizes } from '../../lib/bundle/spill-partitions';
import { TempSpace } from '../../lib/bundle/temp-space';

const hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * 3,000 artifacts and 6,000 references in a scrambled order: every artifact referenced
 * twice, except one never referenced, one missing (its two references match nothing), and
 * one file that copies another.
 */
function fill(index: ArtifactIndex): void {
  const order = Array.from({ length: 3000 }, (_, i) => (i * 7919) % 3000);
  for (const i of order) {
    if (i === 1234) continue; // missing
    index.addArtifact(`artifacts/a-${String(i).padStart(4, '0')}.json`, hex(`artifact ${i}`), [i]);
  }
  index.addArtifact('artifacts/copy.json', hex('artifact 17'), [5000]);
  for (const i of order) {
    if (i === 2999) continue; // never referenced
    for (const line of [2 * i + 1, 2 * i + 2]) {
      index.addReference(hex(`artifact ${i}`), {
        check: 'evidence-pointers',
        key: [8, line, 0],
        message: `line ${line}: no artifact ${i}`,
      });
    }
  }
}

describe('artifact index', () => {
  it('joins artifacts and references the same in memory, spilled to disk and split into smaller partitions, findings in bundle order', async () => {
    const outcomes: Array<{ onDisk: boolean; check: BundleCheck; outcome: ArtifactOutcome }> = [];
    // In memory; on disk; on disk with partitions (about 9 KB here) split in memory before
    // they are joined; and split through files first (as partitions of over 16 MB are).
    const configurations: Array<[number | undefined, SplitSizes | undefined]> = [
      [undefined, undefined],
      [4096, undefined],
      [4096, { joinBytes: 2048 }],
      [4096, { joinBytes: 2048, inMemoryBytes: 4096 }],
    ];
    for (const [memoryBytes, sizes] of configurations) {
      const space = new TempSpace('ecs-index-');
      try {
        const index = new ArtifactIndex(space, memoryBytes, sizes);
        fill(index);
        const findings = new Findings();
        const outcome = index.finish(findings, new Set(['artifacts/a-0042.json']));
        outcomes.push({ onDisk: index.onDisk, check: findings.check('evidence-pointers', 'ok'), outcome });
      } finally {
        await space.remove();
      }
    }
    const [memory, disk, ...split] = outcomes;
    expect(outcomes.map(({ onDisk }) => onDisk)).toEqual([false, true, true, true]);
    expect(disk!.check).toEqual(memory!.check);
    for (const other of split) expect(other).toEqual(disk);
    expect(memory!.check).toEqual({
      name: 'evidence-pointers',
      ok: false,
      detail:
        'line 2469: no artifact 1234; line 2470: no artifact 1234; artifacts/a-2999.json is referenced by nothing; ' +
        'artifacts/copy.json duplicates another artifact',
    });
    const names = (outcome: ArtifactOutcome): string[] => outcome.unreferenced.map(({ name }) => name).sort();
    expect(names(disk!.outcome)).toEqual(['artifacts/a-2999.json', 'artifacts/copy.json']);
    expect(names(memory!.outcome)).toEqual(names(disk!.outcome));
    expect(disk!.outcome.digests).toEqual(new Map([['artifacts/a-0042.json', `sha256:${hex('artifact 42')}`]]));
  });

  it('a pointer shared by a million references is counted, not stored a million times', async () => {
    const space = new TempSpace('ecs-index-');
    try {
      const index = new ArtifactIndex(space);
      for (let line = 1; line <= 1_000_000; line += 1) {
        index.addReference(hex('gone'), { check: 'evidence-pointers', key: [8, line, 0], message: `line ${line}: gone` });
      }
      const findings = new Findings();
      index.finish(findings, new Set());
      expect(index.onDisk).toBe(false);
      expect(findings.check('evidence-pointers', 'ok').detail).toBe(
        'line 1: gone; line 2: gone; line 3: gone; line 4: gone; line 5: gone; and 999995 more',
      );
    } finally {
      await space.remove();
    }
  });
});
