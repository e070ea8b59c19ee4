import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The upload was larger than allowed: nothing is kept. */
export class UploadTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the package is larger than ${maxBytes} bytes`);
  }
}

/**
 * Streams a request body to `file` (never held in memory), measuring its size and SHA-256 on
 * the way and stopping at `maxBytes`; a failed or oversized upload leaves no file behind.
 */
export async function receiveUpload(body: Readable, file: string, maxBytes: number): Promise<{ size: number; digest: string }> {
  await mkdir(path.dirname(file), { recursive: true });
  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxBytes) {
        done(new UploadTooLargeError(maxBytes));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, measure, createWriteStream(file));
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
  return { size, digest: `sha256:${hash.digest('hex')}` };
}
