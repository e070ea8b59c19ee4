/**
 * Bytes put aside to be read again later, in order: held in memory while small, written
 * to a file in the verification's temporary space once they pass `memoryBytes`. Writes are
 * synchronous (the callers are synchronous parsers; the page cache absorbs them) and go
 * through one staging buffer, reused: buffers that live through many young collections
 * end in the old generation and are freed only by a full one, so a spool that allocated
 * a buffer per write would hold on to about as much memory as it wrote between two.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { TempSpace } from './temp-space';

/** Held in memory below this size. */
const DEFAULT_MEMORY_BYTES = 4 * 1024 * 1024;
/** Size of the staging buffer, written to the file when full. */
const STAGING_BYTES = 256 * 1024;
/** Size of the pieces a spool is read back in. */
const READ_BYTES = 64 * 1024;

export class Spool {
  private staging = Buffer.allocUnsafe(STAGING_BYTES);
  private staged = 0;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private fd: number | undefined;
  private file: string | undefined;
  private written = 0;

  constructor(
    private readonly space: TempSpace,
    private readonly label: string,
    private readonly memoryBytes = DEFAULT_MEMORY_BYTES,
  ) {}

  get size(): number {
    return this.written + this.heldBytes + this.staged;
  }

  write(bytes: Buffer | string): void {
    if (typeof bytes === 'string') {
      const length = Buffer.byteLength(bytes);
      if (this.staged + length > this.staging.length) this.makeRoom(length);
      this.staged += this.staging.write(bytes, this.staged);
      return;
    }
    for (let offset = 0; offset < bytes.length; ) {
      if (this.staged === this.staging.length) this.makeRoom(1);
      const copied = bytes.copy(this.staging, this.staged, offset);
      this.staged += copied;
      offset += copied;
    }
  }

  /** Ends writing; the spool can then be read, as often as needed. */
  close(): void {
    if (this.file !== undefined) this.writeStaged();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** What was written, in pieces; each piece is valid only until the next is asked for. */
  async *chunks(): AsyncGenerator<Buffer> {
    if (this.file !== undefined) yield* Spool.fromFile(this.file);
    yield* this.held;
    if (this.staged > 0) yield this.staging.subarray(0, this.staged);
  }

  /** A file read back in pieces through one reused buffer; each piece is valid only until the next is asked for. */
  static async *fromFile(file: string): AsyncGenerator<Buffer> {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      for (let position = 0; ; ) {
        const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  /** Makes room in the staging buffer: kept in memory while small, else written out. */
  private makeRoom(length: number): void {
    if (this.file === undefined && this.heldBytes + this.staged < this.memoryBytes) {
      this.held.push(this.staging.subarray(0, this.staged));
      this.heldBytes += this.staged;
    } else {
      if (this.file === undefined) {
        this.file = this.space.file(this.label);
        this.fd = openSync(this.file, 'wx');
        for (const piece of this.held) this.writeOut(piece);
        this.held = [];
        this.heldBytes = 0;
      }
      this.writeStaged();
      if (length <= this.staging.length) return;
    }
    this.staging = Buffer.allocUnsafe(Math.max(STAGING_BYTES, length));
    this.staged = 0;
  }

  private writeStaged(): void {
    this.writeOut(this.staging.subarray(0, this.staged));
    this.staged = 0;
  }

  private writeOut(bytes: Buffer): void {
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(this.fd!, bytes, offset);
    this.written += bytes.length;
  }
}
