import type { IncomingHttpHeaders } from 'node:http';
import type { Request } from 'express';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { AwsChunkedDecoder } from '../../lib/s3/aws-chunked-decoder';
import { PayloadSha256Check } from '../../lib/s3/payload-sha256-check';
import { S3Error } from '../../lib/s3/s3-error';
import type { S3Locals } from '../../gateway/s3-authenticate';

/** The body of an S3 upload as the data plane should get it, and what went wrong on the way, if anything. */
export interface UploadBody {
  body: Readable;
  /** The decoded length, for the data plane's `content-length`. */
  contentLength: string | undefined;
  /** The error that stopped the body (a bad chunk signature, a body not matching its signed hash). */
  failure(): unknown;
}

/**
 * Decodes and checks an upload while it streams: `aws-chunked` bodies are decoded (chunk
 * signatures checked before their bytes go on); a signed payload is hashed and fails at its
 * end if it does not match. Nothing is held beyond one chunk.
 */
export function uploadBody(req: Request, s3: S3Locals['s3']): UploadBody {
  const { payload } = s3;
  let stage: Transform | undefined;
  if (payload.kind === 'signed') stage = new PayloadSha256Check(payload.sha256);
  if (payload.kind === 'streaming-signed') stage = new AwsChunkedDecoder({ seed: s3.seed, decodedLength: payload.decodedLength });
  if (payload.kind === 'streaming-unsigned')
    stage = new AwsChunkedDecoder({ decodedLength: payload.decodedLength, declaredTrailers: declaredTrailers(req.headers) });
  const rawLength = req.headers['content-length'];
  if (!stage) return { body: req, contentLength: rawLength, failure: () => undefined };
  let failed: unknown;
  const body = pipeline(req, stage, (error) => {
    if (error) failed = error;
  });
  const streaming = payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned';
  return { body, contentLength: streaming ? String(payload.decodedLength) : rawLength, failure: () => failed };
}

/** The trailers an `aws-chunked` upload declares in `x-amz-trailer` (a signed header), lower case. */
export function declaredTrailers(headers: IncomingHttpHeaders): string[] {
  const value = headers['x-amz-trailer'];
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

/** The data plane's header with S3's ETag of a version or part (unquoted); its `ETag` is the SHA-256. */
export const PLANE_S3_ETAG_HEADER = 'x-eosc-s3-etag';

/**
 * S3's ETag (quoted) from a data plane answer: the MD5 (or MD5 of the parts' MD5s with `-N`) it
 * recorded, or the SHA-256 `ETag` of a version stored before MD5s were recorded.
 */
export function s3EtagOf(headers: IncomingHttpHeaders): string | undefined {
  const recorded = headers[PLANE_S3_ETAG_HEADER];
  if (typeof recorded === 'string' && recorded !== '') return `"${recorded}"`;
  const etag = headers.etag;
  return typeof etag === 'string' ? etag : undefined;
}

/**
 * The upload's `Content-MD5`, for the data plane, which checks it against the bytes and stores
 * nothing when they differ; refused here (`InvalidDigest`) when it is not the base64 of 16 bytes.
 */
export function contentMd5Of(req: Request): Record<string, string> {
  const value = req.headers['content-md5'];
  if (value === undefined) return {};
  const text = typeof value === 'string' ? value.trim() : '';
  if (!/^[A-Za-z0-9+/]{22}==$/.test(text) || Buffer.from(text, 'base64').length !== 16)
    throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.');
  return { 'content-md5': text };
}

/** True when the data plane refused the bytes for not matching their `Content-MD5` (S3's `BadDigest`). */
export function isContentMd5Mismatch(error: { code: string; message: string }): boolean {
  return error.code === 'ECS_BAD_REQUEST' && error.message.startsWith('Content-MD5 does not match');
}
