import type { Readable } from 'node:stream';

export interface PutOptions {
  /** Lowercase hex SHA-256 the bytes must hash to; a mismatch stores nothing. */
  expectedSha256?: string;
  /** Lowercase hex MD5 the bytes must hash to (a client's `Content-MD5`); a mismatch stores nothing. */
  expectedMd5?: string;
  /** Largest accepted size in bytes; more stores nothing. */
  maxBytes?: number;
}

export interface StoredBlob {
  /** Lowercase hex SHA-256 of the bytes: the blob's address. */
  sha256: string;
  size: number;
}

/** A blob just written: also the MD5 of its bytes, computed in the same pass (S3's ETag). */
export interface WrittenBlob extends StoredBlob {
  /** Lowercase hex MD5 of the bytes. */
  md5: string;
}

/** The bytes do not hash to what the sender declared (`algorithm`): nothing was stored. */
abstract class BlobDigestMismatch extends Error {
  constructor(
    algorithm: 'sha256' | 'md5',
    readonly expected: string,
    readonly actual: string,
    readonly size: number,
  ) {
    super(`content hashes to ${algorithm}:${actual}, not the declared ${algorithm}:${expected}`);
  }
}

/** Why a put stored nothing (the stream itself failing is rethrown as it is). */
export class BlobIntegrityError extends BlobDigestMismatch {
  override readonly name = 'BlobIntegrityError';
  constructor(expected: string, actual: string, size: number) {
    super('sha256', expected, actual, size);
  }
}

/** The bytes do not match the MD5 the sender declared for them (`Content-MD5`): nothing was stored. */
export class BlobMd5MismatchError extends BlobDigestMismatch {
  override readonly name = 'BlobMd5MismatchError';
  constructor(expected: string, actual: string, size: number) {
    super('md5', expected, actual, size);
  }
}

/** The store itself failed (disk full, unwritable, I/O error): nothing was stored. */
export class BlobStoreUnavailableError extends Error {
  override readonly name = 'BlobStoreUnavailableError';
  readonly code: string | undefined;
  constructor(override readonly cause: unknown) {
    const code = (cause as { code?: unknown } | null)?.code;
    super(`the blob store could not store the object${typeof code === 'string' ? ` (${code})` : ''}`);
    this.code = typeof code === 'string' ? code : undefined;
  }
}

export class BlobTooLargeError extends Error {
  override readonly name = 'BlobTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`object exceeds the limit of ${maxBytes} bytes`);
  }
}

/**
 * Content-addressed object bytes. `put` consumes the stream while hashing it and makes
 * the blob visible only once it is complete, durable and (when declared) verified.
 */
export interface BlobStore {
  /** Consumes `stream`; on failure the stream is left as it is (the caller drains or destroys it). */
  put(stream: Readable, options?: PutOptions): Promise<WrittenBlob>;
  /** The blob's bytes; rejects (ENOENT) when there is no such blob. */
  open(sha256: string): Promise<Readable>;
  /**
   * The whole blob in memory when it holds at most `maxBytes` bytes, read in one go (for
   * small objects, where a stream costs more than the bytes); `undefined` when it holds more.
   * Rejects, as `open` does, when there is no such blob.
   */
  readSmall(sha256: string, maxBytes: number): Promise<Buffer | undefined>;
  has(sha256: string): Promise<boolean>;
  /**
   * Marks an existing blob as just used (a copy refers to it without writing it), so the
   * orphan sweep leaves it alone; false when there is no such blob.
   */
  retain(sha256: string): Promise<boolean>;
  /** Re-reads a blob and hashes it (read-verify); null when the blob is gone. */
  rehash(sha256: string): Promise<StoredBlob | null>;
  /**
   * Removes blobs no metadata refers to (`isReferenced` false) and abandoned temporary
   * files, both only when untouched for `graceMs`: a blob written by an upload whose
   * metadata has not committed yet is never taken.
   */
  sweep(isReferenced: (sha256: string) => Promise<boolean>, options: { graceMs: number; now?: number }): Promise<SweepResult>;
}

export interface SweepResult {
  removedBlobs: string[];
  removedTemporary: number;
  kept: number;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
