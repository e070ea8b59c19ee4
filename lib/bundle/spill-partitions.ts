/**
 * Records partitioned by a hash, kept on disk when there are many: the index behind the
 * artifact check and the duplicate-name check of archives. Each record is copied at once
 * into its partition's byte buffer (bytes outside the JavaScript heap: a million records
 * held as strings would be promoted to the old generation and swell the heap until the
 * next full collection). Buffers stay in memory up to `memoryBytes` in all; past that each
 * partition is appended to its own file.
 *
 * Reading returns one partition at a time, and never one larger than `JOIN_BYTES`: a
 * partition that grew past it (ten million records in 256 partitions are about 40,000
 * each) is first split, as it is read from its file, into as many sub-partitions by
 * another hash of the records' keys as keep each near half that size, and those are
 * returned in its place. So what a reader holds while it joins one partition does not grow
 * with the number of records. Records with equal keys stay together (the join needs
 * them side by side), and keep the order they were added in.
 */
import { appendFileSync, closeSync, openSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import type { TempSpace } from './temp-space';

const DEFAULT_MEMORY_BYTES = 4 * 1024 * 1024;
/** Largest size of a partition's buffer (a longer record gets a buffer of its own). */
const BUFFER_BYTES = 16 * 1024;
/** Largest partition handed to a reader whole; a larger one is split first. */
const JOIN_BYTES = 1024 * 1024;
/** Memory of a split's sub-partitions before they go to disk, and the size of its reads. */
const SPLIT_BYTES = 1024 * 1024;
/** Splits of splits: records that share one key cannot be parted, however often split. */
const MAX_SPLIT_LEVEL = 3;
/**
 * Largest partition split in memory (two buffers of its size, outside the JavaScript heap);
 * a larger one is split through files (creating a file cost milliseconds on a busy disk).
 */
const IN_MEMORY_SPLIT_BYTES = 16 * 1024 * 1024;
/** Sub-partitions of one split (a larger partition is split again). */
const MAX_SPLIT_COUNT = 256;
const NEWLINE = 0x0a;

/**
 * A hash of a record's key (`records[start..end)` is the record without its newline) for
 * splits at `level` (1, 2, ...): a non-negative integer, equal for equal keys, and not the
 * hash that placed the record at an earlier level.
 */
export type RecordHash = (records: Buffer, start: number, end: number, level: number) => number;

/** What a partition set needs to split an oversized partition on reading. */
export interface SplitOptions {
  hash: RecordHash;
  /** Largest partition handed out whole (default `JOIN_BYTES`; tests make it small). */
  joinBytes?: number;
  /** Largest partition split in memory (default `IN_MEMORY_SPLIT_BYTES`; tests make it small). */
  inMemoryBytes?: number;
}

/** The sizes of splitting, for tests (the defaults suit a verification). */
export type SplitSizes = Pick<SplitOptions, 'joinBytes' | 'inMemoryBytes'>;

export class SpillPartitions {
  private readonly current: Array<Buffer | undefined>;
  private readonly used: number[];
  private readonly held: Buffer[][];
  private readonly files: Array<string | undefined>;
  /**
   * Open files of a split's sub-partitions (at most `MAX_SPLIT_COUNT`, closed before they
   * are read): a split writes a whole partition out at once, and opening a file for each
   * buffer cost more than the split itself. The first level opens a file per append
   * instead, so two indexes of 256 partitions hold no descriptors between records.
   */
  private readonly open: Array<number | undefined> = [];
  private heldBytes = 0;
  private spilled = false;
  /** Each partition's share of the memory, at most `BUFFER_BYTES`. */
  private readonly bufferBytes: number;

  constructor(
    private readonly space: TempSpace,
    private readonly label: string,
    readonly count: number,
    private readonly memoryBytes = DEFAULT_MEMORY_BYTES,
    private readonly split?: SplitOptions,
    private readonly level = 0,
  ) {
    this.current = new Array<Buffer | undefined>(count);
    this.used = new Array<number>(count).fill(0);
    this.held = Array.from({ length: count }, () => []);
    this.files = new Array<string | undefined>(count);
    this.bufferBytes = Math.max(64, Math.min(BUFFER_BYTES, Math.floor(memoryBytes / count)));
  }

  /** Adds a record (one line: no `\n`) to a partition. */
  add(partition: number, record: string): void {
    const length = Buffer.byteLength(record) + 1;
    const [buffer, used] = this.room(partition, length);
    buffer.write(record, used);
    buffer[used + length - 1] = NEWLINE;
  }

  /** Adds the record `source[start..end)` (its bytes, without the newline) to a partition. */
  private addBytes(partition: number, source: Buffer, start: number, end: number): void {
    const length = end - start + 1;
    const [buffer, used] = this.room(partition, length);
    source.copy(buffer, used, start, end);
    buffer[used + length - 1] = NEWLINE;
  }

  /** The partition's buffer with `length` bytes reserved at the returned offset. */
  private room(partition: number, length: number): [Buffer, number] {
    let buffer = this.current[partition];
    if (!buffer || this.used[partition]! + length > buffer.length) {
      if (buffer) this.retire(partition);
      buffer = this.current[partition];
      if (!buffer || length > buffer.length) {
        buffer = Buffer.allocUnsafe(Math.max(this.bufferBytes, length));
        this.current[partition] = buffer;
      }
    }
    const used = this.used[partition]!;
    this.used[partition] = used + length;
    return [buffer, used];
  }

  /**
   * Every partition's records, one partition at a time (in the order they were added), as
   * bytes of `\n`-terminated lines: see `eachRecord`. Readers decode only what they need
   * (a digest at a fixed place), record by record: a partition decoded whole would be one
   * large string, which only a full collection frees. Records are read once: a split
   * partition's file is gone afterwards.
   */
  *partitions(): Generator<Buffer> {
    // One buffer, grown as needed, holds each partition in turn: a fresh buffer per
    // partition would outlive a few young collections and be freed only by a full one.
    this.closeFiles();
    let target = Buffer.alloc(0);
    const scratch: SplitScratch = { out: Buffer.alloc(0), parts: new Uint32Array(0) };
    const joinBytes = this.split?.joinBytes ?? JOIN_BYTES;
    for (let partition = 0; partition < this.count; partition += 1) {
      const file = this.files[partition];
      const fileBytes = file === undefined ? 0 : statSync(file).size;
      const pieces = [...this.held[partition]!];
      const buffer = this.current[partition];
      if (buffer) pieces.push(buffer.subarray(0, this.used[partition]));
      const total = fileBytes + pieces.reduce((sum, piece) => sum + piece.length, 0);
      const split = this.split && total > joinBytes && this.level < MAX_SPLIT_LEVEL ? this.split : undefined;
      const count = Math.min(MAX_SPLIT_COUNT, Math.ceil((2 * total) / joinBytes));
      if (split && total > (split.inMemoryBytes ?? IN_MEMORY_SPLIT_BYTES)) {
        yield* this.splitPartition(partition, file, fileBytes, pieces, count);
        continue;
      }
      if (target.length < total) target = Buffer.allocUnsafe(Math.max(total, target.length * 2));
      if (file !== undefined) readInto(file, target, fileBytes);
      let offset = fileBytes;
      for (const piece of pieces) offset += piece.copy(target, offset);
      if (split)
        yield* splitInMemory(
          target.subarray(0, total),
          count,
          (records, start, end) => split.hash(records, start, end, this.level + 1),
          scratch,
        );
      else yield target.subarray(0, total);
    }
  }

  /**
   * One oversized partition, read from its file in slices and parted by a hash of each
   * record's key (seeded by the level, so it is not the hash that made the partition) into
   * `count` sub-partitions, which are returned in its place. Its file is removed once read.
   */
  private *splitPartition(
    partition: number,
    file: string | undefined,
    fileBytes: number,
    pieces: Buffer[],
    count: number,
  ): Generator<Buffer> {
    const split = this.split!;
    const parts = new SpillPartitions(this.space, `${this.label}-${partition}`, count, SPLIT_BYTES, split, this.level + 1);
    const place = (records: Buffer): void =>
      eachRecord(records, (start, end) => {
        parts.addBytes(split.hash(records, start, end, this.level + 1) % count, records, start, end);
      });
    if (file !== undefined) {
      for (const slice of fileSlices(file, fileBytes)) place(slice);
      unlinkSync(file);
      this.files[partition] = undefined;
    }
    for (const piece of pieces) place(piece);
    this.held[partition] = [];
    this.current[partition] = undefined;
    this.used[partition] = 0;
    yield* parts.partitions();
  }

  /** Whether records went to disk (for tests and figures). */
  get onDisk(): boolean {
    return this.spilled;
  }

  /** A full buffer: kept while memory allows, else written to the partition's file (and reused). */
  private retire(partition: number): void {
    const filled = this.current[partition]!.subarray(0, this.used[partition]);
    this.used[partition] = 0;
    if (this.spilled) {
      this.append(partition, [filled]);
      return;
    }
    this.current[partition] = undefined;
    this.held[partition]!.push(filled);
    this.heldBytes += filled.length;
    if (this.heldBytes < this.memoryBytes) return;
    this.spilled = true;
    for (let index = 0; index < this.count; index += 1) {
      this.append(index, this.held[index]!);
      this.held[index] = [];
    }
    this.heldBytes = 0;
  }

  private append(partition: number, buffers: Buffer[]): void {
    if (buffers.length === 0) return;
    this.files[partition] ??= this.space.file(`${this.label}-${partition}`);
    const bytes = buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers);
    if (this.level === 0) return appendFileSync(this.files[partition]!, bytes);
    const fd = (this.open[partition] ??= openSync(this.files[partition]!, 'a'));
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
  }

  private closeFiles(): void {
    for (const fd of this.open) if (fd !== undefined) closeSync(fd);
    this.open.length = 0;
  }
}

function readInto(file: string, target: Buffer, length: number): void {
  const fd = openSync(file, 'r');
  try {
    for (let offset = 0; offset < length; ) {
      const read = readSync(fd, target, offset, length - offset, offset);
      if (read === 0) throw new Error(`${file} is shorter than written`);
      offset += read;
    }
  } finally {
    closeSync(fd);
  }
}

/** Buffers an in-memory split reuses from one partition to the next. */
interface SplitScratch {
  out: Buffer;
  /** The sub-partition of each record, in order. */
  parts: Uint32Array;
}

/**
 * A partition held whole in `records`, parted into `count` sub-partitions by `hash` with a
 * counting sort into `scratch.out` (each keeps its records' order), and returned one by one.
 */
function* splitInMemory(
  records: Buffer,
  count: number,
  hash: (records: Buffer, start: number, end: number) => number,
  scratch: SplitScratch,
): Generator<Buffer> {
  const ends = new Float64Array(count);
  let found = 0;
  eachRecord(records, (start, end) => {
    if (found === scratch.parts.length) {
      const grown = new Uint32Array(Math.max(1024, found * 2));
      grown.set(scratch.parts);
      scratch.parts = grown;
    }
    const part = hash(records, start, end) % count;
    scratch.parts[found++] = part;
    ends[part]! += end - start + 1;
  });
  if (scratch.out.length < records.length) scratch.out = Buffer.allocUnsafe(Math.max(records.length, scratch.out.length * 2));
  const starts = new Float64Array(count);
  for (let part = 1; part < count; part += 1) starts[part] = starts[part - 1]! + ends[part - 1]!;
  const next = Float64Array.from(starts);
  let index = 0;
  eachRecord(records, (start, end) => {
    const part = scratch.parts[index++]!;
    next[part]! += records.copy(scratch.out, next[part]!, start, end + 1);
  });
  for (let part = 0; part < count; part += 1) yield scratch.out.subarray(starts[part]!, next[part]!);
}

/**
 * A file's records in slices of about `SPLIT_BYTES`, each ending at a record's end (a record
 * longer than that is one slice of its own). The buffer is reused: a slice is valid only
 * until the next one is asked for.
 */
function* fileSlices(file: string, length: number): Generator<Buffer> {
  const fd = openSync(file, 'r');
  try {
    let buffer = Buffer.allocUnsafe(SPLIT_BYTES);
    let carried = 0;
    for (let offset = 0; offset < length; ) {
      if (carried === buffer.length) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)]);
      const read = readSync(fd, buffer, carried, Math.min(buffer.length - carried, length - offset), offset);
      if (read === 0) throw new Error(`${file} is shorter than written`);
      offset += read;
      const filled = carried + read;
      const last = buffer.lastIndexOf(NEWLINE, filled - 1);
      if (last < 0) {
        carried = filled;
        continue;
      }
      yield buffer.subarray(0, last + 1);
      buffer.copy(buffer, 0, last + 1, filled);
      carried = filled - last - 1;
    }
    if (carried > 0) throw new Error(`${file} ends inside a record`);
  } finally {
    closeSync(fd);
  }
}

/** Calls `visit` with the start and end (byte offsets) of each record of a partition. */
export function eachRecord(records: Buffer, visit: (start: number, end: number) => void): void {
  for (let start = 0; start < records.length; ) {
    const end = records.indexOf(NEWLINE, start);
    visit(start, end);
    start = end + 1;
  }
}

/** FNV-1a over bytes, seeded by `seed` (a split level): for keys that are not hashes already. */
export function bytesHash(records: Buffer, start: number, end: number, seed: number): number {
  let hash = Math.imul(0x811c9dc5 ^ seed, 0x01000193);
  for (let index = start; index < end; index += 1) {
    hash ^= records[index]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Six hex digits of a hex digest at `at`, a well-spread hash already (lowercase hex only). */
export function hexDigits(records: Buffer, at: number): number {
  let value = 0;
  for (let index = at; index < at + 6; index += 1) {
    const code = records[index]!;
    value = value * 16 + (code <= 0x39 ? code - 0x30 : code - 0x57);
  }
  return value;
}

/** FNV-1a over a string's UTF-16 code units: a cheap, well-spread partition for names. */
export function stringPartition(text: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}
