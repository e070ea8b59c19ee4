import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { EMPTY_SHA256, signaturesEqual, signHex } from './sigv4-crypto';
import type { ChunkSigningSeed } from './sigv4-verify';
import { S3Error } from './s3-error';

/** The largest chunk a signed `aws-chunked` body may use: a chunk is held until its signature is checked. @default 8 MiB */
export const DEFAULT_MAX_CHUNK_BYTES = 8 * 1024 * 1024;
const MAX_LINE_BYTES = 4096;
const MAX_TRAILER_LINES = 16;

export interface AwsChunkedOptions {
  /** The signing chain of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`; without it the chunks are unsigned (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`). */
  seed?: ChunkSigningSeed;
  /** `x-amz-decoded-content-length`: the body's length once decoded. */
  decodedLength: number;
  maxChunkBytes?: number;
  /** Trailers the request declared (`x-amz-trailer`), lower case: the body must end with each. */
  declaredTrailers?: readonly string[];
}

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

/**
 * Decodes an `aws-chunked` body (`<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0...\r\n<trailers>\r\n`)
 * into its bytes. Signed chunks are released only once their signature, chained from the previous
 * one, is verified; a bad signature, bad framing or a wrong total length fails the stream.
 */
export class AwsChunkedDecoder extends Transform {
  /** Trailing headers (`x-amz-checksum-*`) of an unsigned chunked body, by lower-case name. */
  readonly trailers = new Map<string, string>();
  private state: State = 'size';
  private line = Buffer.alloc(0);
  private remaining = 0;
  private chunkSignature = '';
  private chunkHash: Hash = createHash('sha256');
  private held: Buffer[] = [];
  private previousSignature: string;
  private decoded = 0;
  private readonly bodyHash = createHash('sha256');
  private readonly maxChunkBytes: number;

  constructor(private readonly options: AwsChunkedOptions) {
    super();
    this.previousSignature = options.seed?.seedSignature ?? '';
    this.maxChunkBytes = options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let offset = 0;
      while (offset < chunk.length) offset = this.consume(chunk, offset);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.state !== 'done') return callback(incomplete('The aws-chunked body ended before its final chunk.'));
    if (this.decoded !== this.options.decodedLength)
      return callback(incomplete('The decoded body length differs from x-amz-decoded-content-length.'));
    const missing = (this.options.declaredTrailers ?? []).find((name) => !this.trailers.has(name));
    if (missing !== undefined) return callback(incomplete(`The aws-chunked body ended without its declared ${missing} trailer.`));
    const declared = this.trailers.get('x-amz-checksum-sha256');
    if (declared !== undefined && declared !== this.bodyHash.digest('base64')) {
      return callback(new S3Error('BadDigest', 'The SHA256 you specified did not match the calculated checksum.'));
    }
    callback();
  }

  private consume(chunk: Buffer, offset: number): number {
    if (this.state === 'data') return this.consumeData(chunk, offset);
    if (this.state === 'done') throw incomplete('Bytes follow the final chunk of the aws-chunked body.');
    const end = chunk.indexOf(0x0a, offset);
    const piece = chunk.subarray(offset, end === -1 ? chunk.length : end + 1);
    this.line = Buffer.concat([this.line, piece]);
    if (this.line.length > MAX_LINE_BYTES) throw incomplete('An aws-chunked header line is too long.');
    if (end === -1) return chunk.length;
    if (this.line.length < 2 || this.line[this.line.length - 2] !== 0x0d) throw incomplete('aws-chunked lines must end with CRLF.');
    const text = this.line.subarray(0, this.line.length - 2).toString('latin1');
    this.line = Buffer.alloc(0);
    this.onLine(text);
    return end + 1;
  }

  private onLine(text: string): void {
    if (this.state === 'data-end') {
      if (text !== '') throw incomplete('A chunk is longer than its declared size.');
      this.state = 'size';
    } else if (this.state === 'size') {
      this.startChunk(text);
    } else if (text === '') {
      this.state = 'done';
    } else {
      this.addTrailer(text);
    }
  }

  private startChunk(header: string): void {
    const match = /^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(header);
    if (!match) throw incomplete('Malformed aws-chunked chunk header.');
    if (this.options.seed && match[2] === undefined)
      throw new S3Error('SignatureDoesNotMatch', 'A chunk of the signed body carries no chunk-signature.');
    const size = Number.parseInt(match[1]!, 16);
    if (size > this.maxChunkBytes) throw new S3Error('InvalidChunkSizeError', `Chunks may be at most ${this.maxChunkBytes} bytes.`);
    this.remaining = size;
    this.chunkSignature = match[2] ?? '';
    this.chunkHash = createHash('sha256');
    if (size === 0) {
      this.verifyChunk();
      this.state = 'trailer';
    } else {
      this.state = 'data';
    }
  }

  private consumeData(chunk: Buffer, offset: number): number {
    const take = Math.min(this.remaining, chunk.length - offset);
    const data = chunk.subarray(offset, offset + take);
    this.remaining -= take;
    this.decoded += take;
    if (this.decoded > this.options.decodedLength) throw incomplete('The body is longer than x-amz-decoded-content-length.');
    this.bodyHash.update(data);
    if (this.options.seed) {
      this.chunkHash.update(data);
      this.held.push(Buffer.from(data));
    } else {
      this.push(data);
    }
    if (this.remaining === 0) {
      this.verifyChunk();
      for (const held of this.held) this.push(held);
      this.held = [];
      this.state = 'data-end';
    }
    return offset + take;
  }

  private verifyChunk(): void {
    const seed = this.options.seed;
    if (!seed) return;
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      seed.amzDate,
      seed.scope,
      this.previousSignature,
      EMPTY_SHA256,
      this.chunkHash.digest('hex'),
    ].join('\n');
    const expected = signHex(seed.signingKey, toSign);
    if (!signaturesEqual(expected, this.chunkSignature)) {
      throw new S3Error('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.');
    }
    this.previousSignature = expected;
  }

  private addTrailer(text: string): void {
    if (this.options.seed) throw incomplete('A signed aws-chunked body takes no trailers.');
    const colon = text.indexOf(':');
    if (colon <= 0 || this.trailers.size >= MAX_TRAILER_LINES) throw incomplete('Malformed aws-chunked trailer.');
    this.trailers.set(text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim());
  }
}

function incomplete(message: string): S3Error {
  return new S3Error('IncompleteBody', message);
}
