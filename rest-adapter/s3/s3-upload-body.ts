import type { Request } from 'express';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { AwsChunkedDecoder } from '../../lib/s3/aws-chunked-decoder';
import { PayloadSha256Check } from '../../lib/s3/payload-sha256-check';
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
  if (payload.kind === 'streaming-unsigned') stage = new AwsChunkedDecoder({ decodedLength: payload.decodedLength });
  const rawLength = req.headers['content-length'];
  if (!stage) return { body: req, contentLength: rawLength, failure: () => undefined };
  let failed: unknown;
  const body = pipeline(req, stage, (error) => {
    if (error) failed = error;
  });
  const streaming = payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned';
  return { body, contentLength: streaming ? String(payload.decodedLength) : rawLength, failure: () => failed };
}
