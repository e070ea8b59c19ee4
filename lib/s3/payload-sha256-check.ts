import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from './s3-error';

/**
 * Passes a body through and fails the stream at its end when it does not hash to the SHA-256
 * the signature covered (`x-amz-content-sha256`), so a tampered body is never stored as signed.
 */
export class PayloadSha256Check extends Transform {
  private readonly hash = createHash('sha256');

  constructor(private readonly expectedHex: string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.hash.digest('hex') !== this.expectedHex) {
      return callback(
        new S3Error('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.'),
      );
    }
    callback();
  }
}
