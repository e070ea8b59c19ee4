import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { EcsError, ErrorCode } from '../../../lib/errors';

/** Response header with S3's ETag of the version (unquoted), next to `ETag`, which is the SHA-256. */
export const S3_ETAG_HEADER = 'x-eosc-s3-etag';

/** The request header a writer may send with the base64 MD5 of the body (RFC 1864, as S3 takes it). */
export const CONTENT_MD5_HEADER = 'content-md5';

/**
 * The body's declared MD5 as lowercase hex, when the request carries `Content-MD5`; refused
 * when it is not the base64 of 16 bytes. The MD5 only guards the transfer: it never counts as
 * the integrity (SHA-256) the governance demands.
 */
export function declaredMd5(req: Request): string | undefined {
  const value = req.headers[CONTENT_MD5_HEADER];
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value.trim() : '';
  const bytes = /^[A-Za-z0-9+/]{22}==$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (bytes?.length !== 16)
    throw new EcsError(ErrorCode.BadRequest, 'Content-MD5 must be the base64 of the 16-byte MD5 of the body', {
      field: CONTENT_MD5_HEADER,
    });
  return bytes.toString('hex');
}

/** The message of a body refused for not matching its `Content-MD5` (the S3 endpoint answers it as `BadDigest`). */
export function contentMd5Mismatch(declared: string, actual: string): string {
  return `Content-MD5 does not match the body: it hashes to md5:${actual}, not the declared md5:${declared}; nothing was stored`;
}

/** S3's ETag of a multipart object: the hex MD5 of the parts' binary MD5s in order, then `-<part count>`. */
export function multipartS3Etag(partMd5s: readonly string[]): string {
  const hash = createHash('md5');
  for (const md5 of partMd5s) hash.update(Buffer.from(md5, 'hex'));
  return `${hash.digest('hex')}-${partMd5s.length}`;
}
