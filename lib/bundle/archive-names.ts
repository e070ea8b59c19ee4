/**
 * The names an archive has used, to refuse one that appears twice. The first names are
 * held in memory and a repeat of one of them is refused at once; past `memoryNames` they
 * are spilled to disk by a hash of the name and compared when the archive ends, so a
 * million artifact names do not have to stay in memory.
 */
import { BundleReadError } from './bundle';
import { type SplitSizes, SpillPartitions, bytesHash, eachRecord, stringPartition } from './spill-partitions';
import type { TempSpace } from './temp-space';

const DEFAULT_MEMORY_NAMES = 20_000;
const PARTITIONS = 256;

export class ArchiveNames {
  private readonly recent = new Set<string>();
  private spilled: SpillPartitions | undefined;
  private index = 0;

  constructor(
    private readonly space: TempSpace,
    private readonly memoryNames = DEFAULT_MEMORY_NAMES,
    private readonly sizes?: SplitSizes,
  ) {}

  /** @throws BundleReadError when `name` repeats one of the names held in memory */
  add(name: string): void {
    this.index += 1;
    if (this.recent.has(name)) throw twice(name);
    if (this.recent.size < this.memoryNames) {
      this.recent.add(name);
      return;
    }
    this.spilled ??= new SpillPartitions(this.space, 'names', PARTITIONS, undefined, { hash: nameHash, ...this.sizes });
    this.spilled.add(stringPartition(name, PARTITIONS), `${this.index} ${JSON.stringify(name)}`);
  }

  /** @throws BundleReadError naming the earliest repeat among the spilled names */
  finish(): void {
    if (!this.spilled) return;
    let first: { index: number; name: string } | undefined;
    for (const records of this.spilled.partitions()) {
      // Records are `<index> <name as JSON>`: equal names have equal JSON, compared unparsed.
      const seen = new Set<string>();
      eachRecord(records, (start, end) => {
        const space = records.indexOf(0x20, start);
        const name = records.toString('utf8', space + 1, end);
        if (!seen.has(name)) return void seen.add(name);
        const index = Number(records.toString('latin1', start, space));
        if (!first || index < first.index) first = { index, name: JSON.parse(name) as string };
      });
    }
    if (first) throw twice(first.name);
  }
}

/** A hash of a record's key: the name as JSON, after `<index> `. */
const nameHash = (records: Buffer, start: number, end: number, level: number): number =>
  bytesHash(records, records.indexOf(0x20, start) + 1, end, level);

const twice = (name: string): BundleReadError => new BundleReadError(`"${name}" appears twice in the archive`);
