/**
 * Records partitioned by a hash, kept on disk when there are many: the index behind the
 * artifact check and the duplicate-name check of archives. Each record is copied at once
 * into its partition's byte buffer (bytes outside the JavaScript heap: a million records
 * held as strings would be promoted to the old generation and swell the heap until the
 * next full collection). Buffers stay in memory up to `memoryBytes` in all; past that each
 * partition is appended to its own file. Reading returns one partition at a time, so
 * memory holds about 1/`count` of the records.
 */
import { appendFileSync, closeSync, openSync, readSync, statSync } from 'node:fs';
import type { TempSpace } from './temp-space';

const DEFAULT_MEMORY_BYTES = 4 * 1024 * 1024;
/** Largest size of a partition's buffer (a longer record gets a buffer of its own). */
const BUFFER_BYTES = 16 * 1024;
const NEWLINE = 0x0a;

export class SpillPartitions {
  private readonly current: Array<Buffer | undefined>;
  private readonly used: number[];
  private readonly held: Buffer[][];
  private readonly files: Array<string | undefined>;
  private heldBytes = 0;
  private spilled = false;
  /** Each partition's share of the memory, at most `BUFFER_BYTES`. */
  private readonly bufferBytes: number;

  constructor(
    private readonly space: TempSpace,
    private readonly label: string,
    readonly count: number,
    private readonly memoryBytes = DEFAULT_MEMORY_BYTES,
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
    buffer.write(record, used);
    buffer[used + length - 1] = NEWLINE;
    this.used[partition] = used + length;
  }

  /**
   * Every partition's records, one partition at a time (in the order they were added), as
   * bytes of `\n`-terminated lines: see `eachRecord`. Readers decode only what they need
   * (a digest at a fixed place), record by record: a partition decoded whole would be one
   * large string, which only a full collection frees.
   */
  *partitions(): Generator<Buffer> {
    // One buffer, grown as needed, holds each partition in turn: a fresh buffer per
    // partition would outlive a few young collections and be freed only by a full one.
    let target = Buffer.alloc(0);
    for (let partition = 0; partition < this.count; partition += 1) {
      const file = this.files[partition];
      const fileBytes = file === undefined ? 0 : statSync(file).size;
      const pieces = [...this.held[partition]!];
      const buffer = this.current[partition];
      if (buffer) pieces.push(buffer.subarray(0, this.used[partition]));
      const total = fileBytes + pieces.reduce((sum, piece) => sum + piece.length, 0);
      if (target.length < total) target = Buffer.allocUnsafe(Math.max(total, target.length * 2));
      if (file !== undefined) readInto(file, target, fileBytes);
      let offset = fileBytes;
      for (const piece of pieces) offset += piece.copy(target, offset);
      yield target.subarray(0, total);
    }
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
    appendFileSync(this.files[partition]!, buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers));
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

/** Calls `visit` with the start and end (byte offsets) of each record of a partition. */
export function eachRecord(records: Buffer, visit: (start: number, end: number) => void): void {
  for (let start = 0; start < records.length; ) {
    const end = records.indexOf(NEWLINE, start);
    visit(start, end);
    start = end + 1;
  }
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
