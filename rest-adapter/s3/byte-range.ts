import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../../lib/s3/s3-error';

/** An inclusive byte range of an object. */
export interface ByteRangeBounds {
  start: number;
  end: number;
}

/**
 * The range a `Range: bytes=a-b | a- | -n` header asks of an object of `size` bytes, or
 * undefined when the header is absent or not a single byte range (S3 then sends the whole object).
 */
export function parseRange(header: string | undefined, size: number): ByteRangeBounds | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [first, last] = [match[1]!, match[2]!];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) throw unsatisfiable();
  return { start, end };
}

function unsatisfiable(): S3Error {
  return new S3Error('InvalidRange', 'The requested range is not satisfiable');
}

/** Passes on only the bytes of `range` of the stream it is fed, and ends as soon as it has them. */
export class ByteRangeFilter extends Transform {
  private offset = 0;

  constructor(private readonly range: ByteRangeBounds) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const from = Math.max(this.range.start - this.offset, 0);
    const to = Math.min(this.range.end + 1 - this.offset, chunk.length);
    this.offset += chunk.length;
    if (from < to) this.push(chunk.subarray(from, to));
    if (this.offset > this.range.end) this.push(null);
    callback();
  }
}
