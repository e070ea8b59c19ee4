/**
 * Reads a stream of chunks by the byte count the caller asks for: a tar header (exactly
 * 512 bytes), then an entry's data in pieces as large as the chunks allow. Holds one
 * chunk at a time, plus what one exact read must join.
 */
const EMPTY = Buffer.alloc(0);

export class ChunkReader {
  private chunk: Buffer = EMPTY;
  private offset = 0;
  private ended = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Up to `max` bytes (at least one), as a view of the current chunk; `undefined` at the end. */
  async next(max: number): Promise<Buffer | undefined> {
    if (this.offset === this.chunk.length && !(await this.refill())) return undefined;
    const end = Math.min(this.chunk.length, this.offset + max);
    const piece = this.chunk.subarray(this.offset, end);
    this.offset = end;
    return piece;
  }

  /** Exactly `length` bytes; `undefined` when the stream ends first. */
  async exactly(length: number): Promise<Buffer | undefined> {
    if (this.chunk.length - this.offset >= length) {
      const piece = this.chunk.subarray(this.offset, this.offset + length);
      this.offset += length;
      return piece;
    }
    const pieces: Buffer[] = [];
    let missing = length;
    while (missing > 0) {
      const piece = await this.next(missing);
      if (!piece) return undefined;
      pieces.push(piece);
      missing -= piece.length;
    }
    return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, length);
  }

  private async refill(): Promise<boolean> {
    while (!this.ended) {
      const { value, done } = await this.source.next();
      if (done) {
        this.ended = true;
        break;
      }
      if (value.length === 0) continue;
      this.chunk = value;
      this.offset = 0;
      return true;
    }
    this.chunk = EMPTY;
    this.offset = 0;
    return false;
  }
}
