import fc from 'fast-check';
import { ArchiveNames } from '../../lib/bundle/archive-names';
import { SpillPartitions, bytesHash, eachRecord, stringPartition } from '../../lib/bundle/spill-partitions';
import { TempSpace } from '../../lib/bundle/temp-space';

const PARTITIONS = 8;

/** Records `<key> <serial>`: the key is what a split must keep together. */
const keyHash = (records: Buffer, start: number, _end: number, level: number): number =>
  bytesHash(records, start, records.indexOf(0x20, start), level);

function readAll(spill: SpillPartitions): string[][] {
  const partitions: string[][] = [];
  for (const records of spill.partitions()) {
    const lines: string[] = [];
    eachRecord(records, (start, end) => lines.push(records.toString('utf8', start, end)));
    partitions.push(lines);
  }
  return partitions;
}

describe('spilled partitions', () => {
  it('hands out every record once, equal keys together and in the order added, however the partitions are split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.string({ maxLength: 40 })), { maxLength: 400 }),
        fc.constantFrom(undefined, 512, 4096),
        fc.constantFrom(undefined, { joinBytes: 256 }, { joinBytes: 256, inMemoryBytes: 1024 }, { joinBytes: 64, inMemoryBytes: 128 }),
        async (items, memoryBytes, sizes) => {
          const space = new TempSpace('ecs-spill-');
          try {
            const spill = new SpillPartitions(space, 'test', PARTITIONS, memoryBytes, sizes && { hash: keyHash, ...sizes });
            const records = items.map(([key, text], serial) => `k${key} ${serial} ${JSON.stringify(text)}`);
            for (const record of records) spill.add(stringPartition(record.slice(0, record.indexOf(' ')), PARTITIONS), record);
            const partitions = readAll(spill);
            expect(partitions.flat().sort()).toEqual([...records].sort());
            const home = new Map<string, number>();
            partitions.forEach((lines, index) => {
              const last = new Map<string, number>();
              for (const line of lines) {
                const [key, serial] = line.split(' ');
                expect(home.get(key!) ?? index).toBe(index);
                home.set(key!, index);
                expect(Number(serial)).toBeGreaterThan(last.get(key!) ?? -1);
                last.set(key!, Number(serial));
              }
            });
            // A partition over the join size is split: more partitions are handed out than made.
            const largest = Math.max(0, ...partitions.map((lines) => lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0)));
            if (sizes && largest > sizes.joinBytes) expect(partitions.length).toBeGreaterThan(PARTITIONS);
            if (!sizes) expect(partitions).toHaveLength(PARTITIONS);
          } finally {
            await space.remove();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('ends when one key fills a partition that no split can part', async () => {
    const space = new TempSpace('ecs-spill-');
    try {
      const spill = new SpillPartitions(space, 'same', 2, 512, { hash: keyHash, joinBytes: 64, inMemoryBytes: 128 });
      for (let serial = 0; serial < 2000; serial += 1) spill.add(0, `same ${serial}`);
      const partitions = readAll(spill).filter((lines) => lines.length > 0);
      expect(partitions).toHaveLength(1);
      expect(partitions[0]).toEqual(Array.from({ length: 2000 }, (_, serial) => `same ${serial}`));
    } finally {
      await space.remove();
    }
  });

  it('a repeated archive name is found among spilled names however their partitions are split', async () => {
    for (const sizes of [undefined, { joinBytes: 1024 }, { joinBytes: 1024, inMemoryBytes: 2048 }]) {
      const space = new TempSpace('ecs-names-');
      try {
        const names = new ArchiveNames(space, 100, sizes);
        for (let index = 0; index < 5000; index += 1) names.add(`artifacts/a-${index}.json`);
        names.add('artifacts/a-4321.json');
        names.add('artifacts/a-777.json');
        expect(() => names.finish()).toThrow('"artifacts/a-4321.json" appears twice in the archive');
        const distinct = new ArchiveNames(space, 100, sizes);
        for (let index = 0; index < 5000; index += 1) distinct.add(`artifacts/b-${index}.json`);
        expect(() => distinct.finish()).not.toThrow();
      } finally {
        await space.remove();
      }
    }
  });
});
